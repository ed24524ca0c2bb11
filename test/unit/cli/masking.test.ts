import { describe, expect, it } from 'vitest';
import { maskBody } from '../../../cli/oncall/dead-letter-detail.js';
import {
  isSecretKey,
  maskJson,
  maskPayload,
  maskText,
  parseLossless,
  passesLuhn,
  REDACTED,
} from '../../../cli/oncall/masking.js';

/** A JSON payload as `dlq show` masks it. */
const masked = (value: unknown) => maskPayload(JSON.stringify(value));

/** The digits left in masked text: of a card number, only its last four may be. */
const digitsOf = (text: string) => text.replace(/\D/g, '');

describe('masking card numbers (Luhn-valid runs of 12 to 19 digits)', () => {
  it('masks a card number written as one run, with single spaces or with dashes, keeping the last four', () => {
    expect(maskText('4111111111111111')).toBe('************1111');
    expect(maskText('Card 4111 1111 1111 1111 ok')).toBe('Card **** **** **** 1111 ok');
    expect(maskText('card=4111-1111-1111-1111')).toBe('card=****-****-****-1111');
  });

  it('masks a card number written with dots', () => {
    expect(maskText('card 4111.1111.1111.1111.')).toBe('card ****.****.****.1111.');
  });

  it('masks a card number written with double spaces', () => {
    expect(maskText('card 5555  5555  5555  4444')).toBe('card ****  ****  ****  4444');
  });

  it('masks a card number written with no-break spaces (U+00A0)', () => {
    expect(maskText('card 4111\u00a01111\u00a01111\u00a01111')).toBe(
      'card ****\u00a0****\u00a0****\u00a01111',
    );
  });

  it('masks a card number written with narrow no-break spaces (U+202F)', () => {
    expect(maskText('card 4111\u202f1111\u202f1111\u202f1111')).toBe(
      'card ****\u202f****\u202f****\u202f1111',
    );
  });

  it('masks a 12-digit Maestro number', () => {
    expect(maskText('maestro 675941110008')).toBe('maestro ********0008');
  });

  it('masks a 13-digit card number', () => {
    expect(maskText('visa 4222222222222')).toBe('visa *********2222');
  });

  it('masks a 19-digit Maestro or Verve number, in text and as a JSON number, from its exact digits', () => {
    expect(maskText('verve 5060 9958 0000 0000 009')).toBe('verve **** **** **** ***0 009');
    expect(maskText('verve 5060995800000000009')).toBe('verve ***************0009');
    expect(maskPayload('{"pan":6759649826438453128}')).toEqual({ pan: '***************3128' });
  });

  it('masks a card number that follows another number in the same run (qty 2, card ...)', () => {
    expect(maskText('qty 2 4111 1111 1111 1111')).toBe('qty 2 **** **** **** 1111');
  });

  it('never shows more of a card number than its last four digits, whatever the separators', () => {
    for (const card of [
      '4111111111111111',
      '4111.1111.1111.1111',
      '4111  1111  1111  1111',
      '4111\u00a01111\u00a01111\u00a01111',
      '4111\u202f1111\u202f1111\u202f1111',
      '4111-1111-1111-1111',
    ]) {
      expect(digitsOf(maskText(`x ${card} y`))).toBe('1111');
    }
  });

  it('leaves a 16-digit order number that fails Luhn as it is', () => {
    expect(passesLuhn('1234567812345678')).toBe(false);
    expect(maskText('order 1234567812345678')).toBe('order 1234567812345678');
    expect(maskPayload('{"order_id":1234567812345678}')).toEqual({ order_id: 1234567812345678 });
  });

  it('leaves phone numbers, timestamps, dates and amounts as they are', () => {
    for (const text of [
      'phone +2348031234567',
      'phone 9876543210',
      'at 1732097720000',
      'on 2026-11-20T10:15:20.000Z',
      'amount 2500.00 NGN',
    ]) {
      expect(maskText(text)).toBe(text);
    }
  });

  it('leaves a run of more than 19 digits as it is (no card number is that long)', () => {
    expect(maskText('id 41111111111111111111111')).toBe('id 41111111111111111111111');
  });
});

describe('masking emails and UPI handles (the first character and the domain or handle kept)', () => {
  it('masks an ASCII email, also form-encoded (%40)', () => {
    expect(maskText('bob@example.org')).toBe('b***@example.org');
    expect(maskText('email=ada%40example.com&x=1')).toBe('email=a***%40example.com&x=1');
  });

  it('masks a non-ASCII email', () => {
    expect(maskText('from jöhn@exämple.com.')).toBe('from j***@exämple.com.');
    expect(maskText('ünïcödé.ñame@exämple.com')).toBe('ü***@exämple.com');
  });

  it('masks an email at an internationalised domain, in Unicode or in punycode', () => {
    expect(maskText('ivan@пример.рф')).toBe('i***@пример.рф');
    expect(maskText('user@xn--bcher-kva.example')).toBe('u***@xn--bcher-kva.example');
    expect(maskText('李雷@例子.中国')).toBe('李***@例子.中国');
  });

  it('masks a UPI handle (name@okaxis)', () => {
    expect(masked({ vpa: 'ada.lovelace@okaxis' })).toEqual({ vpa: 'a***@okaxis' });
  });

  it('masks a UPI handle made of a phone number (9876543210@ybl), hiding the number', () => {
    expect(maskText('paid by 9876543210@ybl')).toBe('paid by 9***@ybl');
  });

  it('masks anything shaped like a UPI handle, such as ref@order: a handle has no dot, and banks add new ones', () => {
    // Decision: no list of handles could be complete, so every `x@name` is masked; the envelope's own identifiers
    // (reference, event id) are never masked, so on-call still sees the reference it searches by.
    expect(maskText('ref@order')).toBe('r***@order');
  });
});

describe('masking by field name (the whole value redacted, case-insensitive, also as part of a name)', () => {
  it.each([
    ['pin', 'pin'],
    ['pin as part of a name', 'card_pin'],
    ['pin in camelCase', 'cardPin'],
    ['PIN in capitals', 'PIN'],
    ['a UPI MPIN', 'upi_mpin'],
    ['otp', 'otp'],
    ['otp as part of a name', 'OTPCode'],
    ['cvv', 'cvv'],
    ['cvc', 'card.cvc'],
    ['cvv2', 'CVV2'],
    ['bvn', 'customer_bvn'],
    ['password', 'password'],
    ['password in camelCase', 'userPassword'],
    ['passwd', 'passwd'],
    ['secret', 'client_secret'],
    ['token', 'access_token'],
    ['authorization', 'Authorization'],
  ])('redacts the value of a field named for %s (%s)', (_name, key) => {
    expect(isSecretKey(key)).toBe(true);
    expect(masked({ [key]: '1234', nested: { [key]: { value: 987654 } } })).toEqual({
      [key]: REDACTED,
      nested: { [key]: REDACTED },
    });
  });

  it('leaves fields whose names only contain those letters: shipping, pinned, hotpot, description', () => {
    for (const key of ['shipping', 'pinned', 'hotpot', 'description', 'spinner', 'botpress']) {
      expect(isSecretKey(key), key).toBe(false);
    }
    expect(masked({ shipping: 'express', description: 'order' })).toEqual({
      shipping: 'express',
      description: 'order',
    });
  });

  it('redacts secret-named fields in a form-encoded body', () => {
    expect(maskPayload('amount=100&pin=1234&card%5Bcvv%5D=123&otp=987654&note=hi')).toBe(
      `amount=100&pin=${REDACTED}&card%5Bcvv%5D=${REDACTED}&otp=${REDACTED}&note=hi`,
    );
  });

  it('redacts secret-named fields of JSON held in a string (a stringified metadata field)', () => {
    expect(masked({ meta: JSON.stringify({ cardPin: '1234', bvn: 22123456789, ok: 'yes' }) })).toEqual({
      meta: `{"cardPin":"${REDACTED}","bvn":"${REDACTED}","ok":"yes"}`,
    });
  });

  it('redacts secret-named elements of XML', () => {
    expect(maskPayload('<card><number>4111111111111111</number><cvv>123</cvv></card>')).toBe(
      `<card><number>************1111</number><cvv>${REDACTED}</cvv></card>`,
    );
  });
});

describe('masking API keys under innocuous field names (redacted whole)', () => {
  it.each([
    ['a Stripe or Paystack live secret key', 'sk_live_51HqLyjWDarjtT1zdp7dcXyz'],
    ['a Stripe or Paystack test secret key', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'],
    ['a Stripe restricted key', 'rk_live_51HqLyjWDarjtT1zdp7dc'],
    ['a webhook signing secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['a Flutterwave live secret key', 'FLWSECK-e6db11d1f8a6208de8cb2f94e293450e-X'],
    ['a Flutterwave test secret key', 'FLWSECK_TEST-e6db11d1f8a6208de8cb2f94e293450e-X'],
    ['a Flutterwave encryption key', 'FLWSECK_TEST5d1b5cd3e5c4'],
    ['a Razorpay live key', 'rzp_live_ILgsfZCZoFIKMb'],
    ['a Razorpay test key', 'rzp_test_ILgsfZCZoFIKMb'],
  ])('redacts %s', (_name, key) => {
    expect(masked({ note: key, description: `use ${key} here`, tags: [key] })).toEqual({
      note: REDACTED,
      description: `use ${REDACTED} here`,
      tags: [REDACTED],
    });
    expect(maskText(`Authorization: Bearer ${key}`)).toBe(`Authorization: Bearer ${REDACTED}`);
  });

  it('redacts a key that was URL-encoded in a form body', () => {
    expect(maskPayload('memo=whsec_abc%2Bdef%3D&x=1')).toBe(`memo=${REDACTED}&x=1`);
  });
});

describe('dlq show: a dead-lettered webhook masked as a whole', () => {
  const secrets = {
    cardDots: '4111.1111.1111.1111',
    cardNbsp: '5555\u00a05555\u00a05555\u00a04444',
    maestro: '675941110008',
    email: 'jöhn@exämple.com',
    upi: '9876543210@ybl',
    pin: '4321',
    otp: '909090',
    bvn: '22123456789',
    password: 'hunter2',
    apiKey: 'sk_live_51HqLyjWDarjtT1zdp7dc',
    flutterwave: 'FLWSECK-e6db11d1f8a6208de8cb2f94e293450e-X',
  };
  const payload = JSON.stringify({
    event: 'charge.success',
    data: {
      reference: 'ORDER-1',
      order_id: '1234567812345678',
      customer: { email: secrets.email, vpa: secrets.upi, phone: '+2348031234567' },
      card: { number: secrets.cardDots, backup: secrets.cardNbsp, maestro: secrets.maestro },
      card_pin: secrets.pin,
      OTPCode: secrets.otp,
      customer_bvn: secrets.bvn,
      metadata: { userPassword: secrets.password, note: secrets.apiKey, other: secrets.flutterwave },
    },
  });

  it.each([
    ['a version 2 message (payload as text)', { payload }],
    ['a version 3 message (payload as base64)', { payloadBase64: Buffer.from(payload).toString('base64') }],
  ])(
    'shows none of the secrets, keeps what is not secret, and leaves the envelope readable: %s',
    (_name, carried) => {
      const body = JSON.stringify({
        messageType: 'webhook-event',
        gateway: 'paystack',
        eventId: 'charge.success:302961',
        reference: 'ORDER-1',
        ...carried,
      });
      const shown = maskBody(body) as { reference: string; payload: unknown };
      const printed = JSON.stringify(shown);
      for (const [name, secret] of Object.entries(secrets)) {
        expect(printed, name).not.toContain(JSON.stringify(secret).slice(1, -1));
      }
      for (const part of ['4111.1111', '5555\u00a05555', '67594111', 'jöhn', '98765', 'LyjWD', 'e6db11d1']) {
        expect(printed).not.toContain(part);
      }
      expect(shown.reference).toBe('ORDER-1');
      expect(shown.payload).toMatchObject({
        data: {
          reference: 'ORDER-1',
          order_id: '1234567812345678',
          customer: { email: 'j***@exämple.com', vpa: '9***@ybl', phone: '+2348031234567' },
          card: {
            number: '****.****.****.1111',
            backup: '****\u00a0****\u00a0****\u00a04444',
            maestro: '********0008',
          },
          card_pin: REDACTED,
          OTPCode: REDACTED,
          customer_bvn: REDACTED,
          metadata: { userPassword: REDACTED, note: REDACTED, other: REDACTED },
        },
      });
    },
  );

  it('parses what it masks keeping every digit (lossless), so a long number is judged on its exact text', () => {
    expect(parseLossless('{"n":6759649826438453128}')).toMatchObject({ n: { value: '6759649826438453128' } });
    expect(maskJson(parseLossless('{"n":12.5,"m":7}'))).toEqual({ n: 12.5, m: 7 });
  });
});
