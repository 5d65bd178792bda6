/**
 * AWS Query-protocol answers (STS, IAM) are XML: this package is the one that reads them (GetCallerIdentity, GetRole,
 * AWS error documents), so the XML parser lives here. It is loaded on first use: building a bearer token reads no
 * XML (only GetCallerIdentity, when the role ARN is unknown, and AWS error answers do), so importing the package and
 * the token path load none of fast-xml-parser.
 * @packageDocumentation
 */
import { scrubSecrets } from '@ecs-identity/core';
import { loadOnce } from '@ecs-identity/core/internal';
import { ConsulError } from './errors.js';

/** fast-xml-parser, loaded on the first document. */
const xmlParser = loadOnce(() =>
  import('fast-xml-parser').then(({ XMLParser, XMLValidator }) => ({
    parser: new XMLParser({
      ignoreAttributes: true,
      ignoreDeclaration: true,
      removeNSPrefix: true,
      // Keep every value a string: AWS account ids have leading zeros, and ids are not numbers.
      parseTagValue: false,
      trimValues: true,
    }),
    validator: XMLValidator,
  })),
);

/**
 * Parses XML (fast-xml-parser) into a plain object; `INVALID_RESPONSE` on malformed input. Attributes and namespace
 * prefixes are dropped, every value stays a string, and repeated elements become arrays.
 * @internal
 */
export async function parseXml(text: string): Promise<Record<string, unknown>> {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ConsulError('INVALID_RESPONSE', 'XML document is empty');
  }
  const { parser, validator } = await xmlParser();
  const valid = validator.validate(text);
  if (valid !== true) {
    throw new ConsulError(
      'INVALID_RESPONSE',
      `malformed XML at line ${valid.err.line}, column ${valid.err.col}: ${scrubSecrets(valid.err.msg)}`,
    );
  }
  try {
    const out: unknown = parser.parse(text);
    if (out === null || typeof out !== 'object') throw new Error('not an element');
    return out as Record<string, unknown>;
  } catch {
    // No cause or parser text: it may quote the document.
    throw new ConsulError('INVALID_RESPONSE', 'malformed XML');
  }
}

/** The child `key` of a parsed XML element (undefined when `node` is not an element or has no such child). @internal */
export function xmlChild(node: unknown, key: string): unknown {
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
}

/** The text of a parsed XML element, or undefined when it is empty or not text. @internal */
export function xmlText(node: unknown): string | undefined {
  if (typeof node === 'string' && node !== '') return node;
  if (typeof node === 'number') return String(node);
  return undefined;
}
