import type { ActivityItem } from '$lib/shared/case-activity';
import type { CustodyReport } from '$lib/shared/custody-report';
import type { DeviceEntry, DeviceView, RegisterDeviceRequest } from '$lib/shared/device-log';
import { authorizedFetch, RequestRefused } from '$lib/utils/authorized-fetch';

/** Registers this browser's public key for the signed-in user. */
export function registerDevice(request: RegisterDeviceRequest): Promise<DeviceView> {
  return authorizedFetch<DeviceView>('/api/devices', { method: 'POST', body: request });
}

export async function listDevices(): Promise<DeviceView[]> {
  return (await authorizedFetch<{ devices: DeviceView[] }>('/api/devices')).devices;
}

export function revokeDevice(deviceId: string): Promise<DeviceView> {
  return authorizedFetch<DeviceView>(`/api/devices/${encodeURIComponent(deviceId)}`, {
    method: 'DELETE',
  });
}

/**
 * Sends entries of this device's log, oldest first. Resolves with the number of the next entry
 * the server expects, also when it already had some of them or is missing earlier ones.
 */
export async function sendDeviceLog(
  deviceId: string,
  entries: readonly DeviceEntry[],
): Promise<number> {
  try {
    const answer = await authorizedFetch<{ next: number }>(
      `/api/devices/${encodeURIComponent(deviceId)}/log`,
      { method: 'POST', body: { entries } },
    );
    return answer.next;
  } catch (err) {
    const expected = err instanceof RequestRefused ? err.body['expected'] : undefined;
    if (
      err instanceof RequestRefused &&
      err.code === 'device_log_gap' &&
      typeof expected === 'number'
    ) {
      return expected;
    }
    throw err;
  }
}

export function fetchCustodyReport(caseId: string, evidenceId: string): Promise<CustodyReport> {
  return authorizedFetch<CustodyReport>(
    `/api/cases/${encodeURIComponent(caseId)}/evidence/${encodeURIComponent(evidenceId)}/custody`,
  );
}

/** A case's activity, newest first; `before` continues from where the last page ended. */
export function fetchCaseActivity(
  caseId: string,
  before?: number,
  signal?: AbortSignal,
): Promise<{ items: ActivityItem[]; next?: number }> {
  const query = before === undefined ? '' : `?before=${before}`;
  return authorizedFetch(`/api/cases/${encodeURIComponent(caseId)}/activity${query}`, {
    ...(signal ? { signal } : {}),
  });
}
