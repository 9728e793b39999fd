/** An Error with a Node-style `code`, as every error this package throws carries. */
export interface CodedError extends Error {
  code: string;
}

export function codedError<E extends Error>(ErrorClass: new (message: string) => E, code: string, message: string): E & CodedError {
  const error = new ErrorClass(message) as E & CodedError;
  error.code = code;
  return error;
}

export function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be a number`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw codedError(RangeError, 'ERR_OUT_OF_RANGE', `${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
