// Tiny XML writer for the fake AWS answers (the shapes are fixed, so a builder is clearer than a library), and the
// reader the fakes use on AWS answers they forward (the fake Consul), with fast-xml-parser.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

const reader = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  removeNSPrefix: true,
  // Every value stays a string, as Go's encoding/xml reads into string fields (account ids have leading zeros).
  parseTagValue: false,
  trimValues: true,
});

/** Parses an XML answer into a plain object; throws an Error saying where the XML is malformed. */
export function readXml(text: string): Record<string, unknown> {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new Error(`malformed XML at line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`);
  }
  const out: unknown = reader.parse(text);
  if (out === null || typeof out !== 'object') throw new Error('malformed XML');
  return out as Record<string, unknown>;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for an XML element body or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** A child node: text, a nested element list, or nothing (the element is left out). */
export type XmlValue = string | number | XmlNode[] | undefined;
export type XmlNode = [name: string, value: XmlValue];

/** Renders nodes; `undefined` values are omitted, strings are escaped. */
export function renderXml(nodes: XmlNode[]): string {
  let out = '';
  for (const [name, value] of nodes) {
    if (value === undefined) continue;
    const inner = Array.isArray(value) ? renderXml(value) : escapeXml(String(value));
    out += `<${name}>${inner}</${name}>`;
  }
  return out;
}

/** A Query-protocol success document: `<{Action}Response xmlns><{Action}Result>..</..><ResponseMetadata>..`. */
export function queryResponseXml(action: string, namespace: string, result: XmlNode[], requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<${action}Response xmlns="${namespace}">` +
    renderXml([
      [`${action}Result`, result],
      ['ResponseMetadata', [['RequestId', requestId]]],
    ]) +
    `</${action}Response>\n`
  );
}

/** The Query-protocol error document AWS sends for STS and IAM. */
export function errorResponseXml(
  namespace: string,
  error: { type: string; code: string; message: string },
  requestId: string,
): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<ErrorResponse xmlns="${namespace}">` +
    renderXml([
      [
        'Error',
        [
          ['Type', error.type],
          ['Code', error.code],
          ['Message', error.message],
        ],
      ],
      ['RequestId', requestId],
    ]) +
    `</ErrorResponse>\n`
  );
}
