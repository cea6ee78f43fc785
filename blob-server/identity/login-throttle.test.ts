import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LoginThrottle } from './login-throttle.ts';
import { TooManyAttempts } from '../errors.ts';

function locked(throttle: LoginThrottle, email: string, ip: string): number | undefined {
  try {
    throttle.check(email, ip);
    return undefined;
  } catch (err) {
    assert.instance(err, TooManyAttempts);
    return (err as TooManyAttempts).retryAfterSeconds;
  }
}

const throttle = suite('LoginThrottle');

throttle('allows four failures, then locks the account from that address for a minute', () => {
  let now = 0;
  const t = new LoginThrottle(() => now);
  for (let i = 0; i < 4; i++) t.failed('a@x.org', '10.0.0.1');
  assert.is(locked(t, 'a@x.org', '10.0.0.1'), undefined);
  t.failed('a@x.org', '10.0.0.1');
  assert.is(locked(t, 'a@x.org', '10.0.0.1'), 60);
  assert.is(locked(t, 'a@x.org', '10.0.0.2'), undefined, 'another address is not locked out');
  now += 61_000;
  assert.is(locked(t, 'a@x.org', '10.0.0.1'), undefined);
});

throttle('doubles the lock with each further failure, up to fifteen minutes', () => {
  const now = 0;
  const t = new LoginThrottle(() => now);
  for (let i = 0; i < 6; i++) t.failed('a@x.org', 'ip');
  assert.is(locked(t, 'a@x.org', 'ip'), 120);
  for (let i = 0; i < 10; i++) t.failed('a@x.org', 'ip');
  assert.is(locked(t, 'a@x.org', 'ip'), 900);
});

throttle('locks an address that fails on many accounts', () => {
  const t = new LoginThrottle(() => 0);
  for (let i = 0; i < 30; i++) t.failed(`user${i}@x.org`, 'ip');
  assert.is(locked(t, 'fresh@x.org', 'ip'), 900);
});

throttle('a success clears the account’s failures', () => {
  const t = new LoginThrottle(() => 0);
  for (let i = 0; i < 4; i++) t.failed('a@x.org', 'ip');
  t.succeeded('a@x.org', 'ip');
  t.failed('a@x.org', 'ip');
  assert.is(locked(t, 'a@x.org', 'ip'), undefined);
});

throttle.run();
