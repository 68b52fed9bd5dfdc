/** Error codes of the container and the token coder. */
export type MrtErrorCode =
  | 'magic' // not an .mrt stream
  | 'version' // unsupported major version (newer, or the pre-release 1.x layout)
  | 'need-more' // readHeader / readFirstPaint: the prefix does not yet hold the message(s)
  | 'truncated' // the stream ended inside a message
  | 'limit' // a hostile-input limit (LIMITS) was exceeded
  | 'corrupt' // malformed message or inconsistent header
  | 'unsupported' // a well-formed value this reader does not know (enum, order)
  | 'table' // a message length disagrees with the header's chunk table
  | 'crc' // a chunk or final layer failed its checksum
  | 'coder' // the entropy-coded payload is inconsistent
  | 'trailing' // bytes after the last message
  | 'model' // the prior the stream needs is not available / does not match
  | 'usage'; // wrong use of the API (writer input)

export class MrtFormatError extends Error {
  readonly code: MrtErrorCode;
  /** absolute byte offset in the stream where the problem was found (-1 when not applicable) */
  readonly offset: number;
  constructor(code: MrtErrorCode, message: string, offset = -1) {
    super(offset >= 0 ? `${message} (at byte ${offset})` : message);
    this.name = 'MrtFormatError';
    this.code = code;
    this.offset = offset;
  }
}

export function isMrtFormatError(e: unknown): e is MrtFormatError {
  return e instanceof MrtFormatError;
}
