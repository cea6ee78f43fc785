import {
  GENESIS_HASH,
  generateDeviceKey,
  registrationPayload,
  sealDeviceEntry,
  signText,
  type DeviceEntry,
  type DevicePublicKey,
  type RegisterDeviceRequest,
  type UnsignedDeviceEntry,
} from '../../web/lib/shared/device-log.ts';

export interface TestDevice {
  id: string;
  publicKey: DevicePublicKey;
  privateKey: CryptoKey;
  /** A registration request for `userId`, signed with this device's key. */
  registration(userId: string, label?: string): Promise<RegisterDeviceRequest>;
  /** The next entry of this device's log, hashed, chained and signed as the PWA does. */
  next(
    fields: Pick<UnsignedDeviceEntry, 'action' | 'details' | 'user'> &
      Partial<Pick<UnsignedDeviceEntry, 'case' | 'evidence' | 'time'>>,
  ): Promise<DeviceEntry>;
}

/** A device key pair made with Web Crypto, as a browser makes it, and its log. */
export async function testDevice(): Promise<TestDevice> {
  const { deviceId: id, privateKey, publicKey } = await generateDeviceKey();
  let seq = 0;
  let prev = GENESIS_HASH;
  return {
    id,
    publicKey,
    privateKey,
    async registration(userId, label = 'Test browser') {
      const createdAt = new Date().toISOString();
      const proof = await signText(
        privateKey,
        registrationPayload({ user: userId, device: id, createdAt }),
      );
      return { publicKey, label, createdAt, proof };
    },
    async next(fields) {
      const entry = await sealDeviceEntry(
        { v: 1, device: id, seq, prev, time: new Date().toISOString(), ...fields },
        privateKey,
      );
      seq++;
      prev = entry.hash;
      return entry;
    },
  };
}
