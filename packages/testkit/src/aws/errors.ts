/**
 * An error answer of the fake AWS, rendered as the Query protocol's `ErrorResponse` XML.
 * Codes, statuses and messages are the real STS / IAM ones, so clients map them as they would in production.
 * @public
 */
export class AwsApiError extends Error {
  override readonly name = 'AwsApiError';
  constructor(
    /** The AWS error code, e.g. `SignatureDoesNotMatch`. */
    readonly code: string,
    message: string,
    /** The HTTP status AWS uses for this code. */
    readonly status: number,
    /** `Sender` (the caller's fault) or `Receiver` (the server's). */
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

/** The real message for a signature that does not match (STS and IAM use the same text). */
export const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

export const invalidClientTokenId = (): AwsApiError =>
  new AwsApiError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);

export const expiredToken = (): AwsApiError =>
  new AwsApiError('ExpiredToken', 'The security token included in the request is expired', 400);

export const signatureDoesNotMatch = (message = SIGNATURE_MISMATCH_MESSAGE): AwsApiError =>
  new AwsApiError('SignatureDoesNotMatch', message, 403);

export const incompleteSignature = (message: string): AwsApiError =>
  new AwsApiError('IncompleteSignature', message, 400);

export const validationError = (message: string): AwsApiError => new AwsApiError('ValidationError', message, 400);
