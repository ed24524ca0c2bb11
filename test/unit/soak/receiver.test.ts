import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { developmentSigningSecret } from '../../../local/development-secret.js';
import type { FailureSchedule, ScheduledAnswer } from '../../../soak/delivery-faults.js';
import { paymentEventFormat, type SoakReceiver, startSoakReceiver } from '../../../soak/receiver.js';

// The soak's receiver on 127.0.0.1: it must verify with the official library (so a signing bug shows as a failure,
// not a delivery), record what it was sent, and answer each injected failure as a real endpoint would fail.

const SECRET = developmentSigningSecret().secret;

/** A schedule that answers from a list, and counts what it was asked. */
function scripted(answers: ScheduledAnswer[]): FailureSchedule & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get requests() {
      return asked.length;
    },
    answer(id) {
      asked.push(id);
      return answers.shift() ?? { kind: 'accept', status: 200 };
    },
  };
}

let receiver: SoakReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function post(url: string, id: string, body: string, secret = SECRET) {
  const now = new Date();
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, now, body),
    },
    body,
  });
}

describe('the soak receiver', () => {
  it('answers as scheduled: 2xx, 5xx, 429 with Retry-After, 410, and records each with its id and body', async () => {
    const schedule = scripted([
      { kind: 'error', status: 502, cause: 'planned' },
      { kind: 'throttle', retryAfter: { seconds: 40, form: 'seconds' }, cause: 'planned' },
      { kind: 'gone', cause: 'stop' },
      { kind: 'accept', status: 204 },
    ]);
    const seen: string[] = [];
    receiver = await startSoakReceiver(
      [{ name: 'shop', format: paymentEventFormat(SECRET), schedule, holdMs: 200 }],
      (attempt) => seen.push(attempt.answer.kind),
    );
    const url = receiver.url('shop');
    const statuses = [];
    const answers = [];
    for (const id of ['evt-1', 'evt-1', 'evt-2', 'evt-2']) {
      const response = await post(url, id, `{"id":"${id}"}`);
      statuses.push(response.status);
      answers.push(response.headers.get('retry-after'));
      await response.text();
    }
    expect(statuses).toEqual([502, 429, 410, 204]);
    expect(answers).toEqual([null, '40', null, null]);
    expect(seen).toEqual(['error', 'throttle', 'gone', 'accept']);
    const attempts = receiver.attempts('shop');
    expect(attempts.map((each) => [each.seq, each.id, each.body, each.verified])).toEqual([
      [1, 'evt-1', '{"id":"evt-1"}', true],
      [2, 'evt-1', '{"id":"evt-1"}', true],
      [3, 'evt-2', '{"id":"evt-2"}', true],
      [4, 'evt-2', '{"id":"evt-2"}', true],
    ]);
    expect(attempts[1]?.retryAfter).toBe('40');
  });

  it('refuses a request signed with another secret with 401, without spending a scheduled answer', async () => {
    const schedule = scripted([{ kind: 'gone', cause: 'stop' }]);
    receiver = await startSoakReceiver([
      { name: 'shop', format: paymentEventFormat(SECRET), schedule, holdMs: 200 },
    ]);
    const other = `whsec_${Buffer.from('a secret payhook does not hold!!').toString('base64')}`;
    const response = await post(receiver.url('shop'), 'evt-1', '{}', other);
    expect(response.status).toBe(401);
    expect(schedule.asked).toEqual([]);
    expect(receiver.attempts('shop')).toEqual([
      expect.objectContaining({ id: 'evt-1', verified: false, verifyError: 'No matching signature found' }),
    ]);
  });

  it('resets the connection, and holds a timeout without ever answering', async () => {
    const schedule = scripted([
      { kind: 'reset', cause: 'planned' },
      { kind: 'timeout', cause: 'planned' },
    ]);
    receiver = await startSoakReceiver([
      { name: 'shop', format: paymentEventFormat(SECRET), schedule, holdMs: 400 },
    ]);
    await expect(post(receiver.url('shop'), 'evt-1', '{}')).rejects.toThrow();
    const started = Date.now();
    await expect(post(receiver.url('shop'), 'evt-1', '{}')).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(receiver.attempts('shop').map((each) => each.answer.kind)).toEqual(['reset', 'timeout']);
  });
});
