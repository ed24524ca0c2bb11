import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * Text as SQS will take it. SQS refuses a message whose body or attributes hold any character outside #x9, #xA, #xD,
 * #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF (U+FFFE, U+FFFF, lone surrogates), and the local emulator refuses
 * everything above U+FFFF too. A gateway can sign any of them (a customer name, order notes, a `\uffff` escape
 * decoded into a reference), so everything payhook puts on a queue is plain printable ASCII: JSON with every other
 * character escaped (`\uXXXX`, which JSON.parse reads back exactly, lone surrogates included).
 */
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/g;

function escaped(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `JSON.stringify(value)` in printable ASCII only: safe as an SQS message body, read back exactly by JSON.parse. */
export function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(NOT_PRINTABLE_ASCII, escaped);
}

/** SQS caps an attribute at the message size; payhook keeps the human-readable ones short. */
export const MAX_ATTRIBUTE_TEXT = 256;

/**
 * A human-readable string attribute (event id, event type, error message) in printable ASCII: other characters as
 * `\uXXXX`, cut to {@link MAX_ATTRIBUTE_TEXT}, `-` when empty (SQS refuses an empty value). For filtering and reading
 * on call only: the message body is what is exact.
 */
export function sqsSafeAttributeText(value: string): string {
  const text = value.replace(NOT_PRINTABLE_ASCII, escaped);
  // Never cut an escape in half.
  const cut =
    text.length <= MAX_ATTRIBUTE_TEXT
      ? text
      : text.slice(0, MAX_ATTRIBUTE_TEXT).replace(/\\u?[0-9a-f]{0,3}$/, '');
  return cut || '-';
}

export function stringAttribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: sqsSafeAttributeText(value) };
}

export function stringAttributes(
  values: Readonly<Record<string, string>>,
): Record<string, MessageAttributeValue> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, stringAttribute(value)]));
}
