/**
 * A rejection the fake ZTS answers with: the real server's status and `{"code", "message"}` body.
 * @public
 */
export class ZtsError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ZtsError';
    this.status = status;
  }

  /** The JSON body the real ZTS sends for a `ResourceException`. */
  toBody(): { code: number; message: string } {
    return { code: this.status, message: this.message };
  }
}

/** 400, as ZTS `requestError`. @internal */
export const badRequest = (message: string): ZtsError => new ZtsError(400, message);
/** 403, as ZTS `forbiddenError`. @internal */
export const forbidden = (message: string): ZtsError => new ZtsError(403, message);
/** 404, as ZTS `notFoundError`. @internal */
export const notFound = (message: string): ZtsError => new ZtsError(404, message);
