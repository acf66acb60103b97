import { ProtocolError } from "../errors.ts";

/**
 * The stream broke (reset, connection lost) rather than carrying wrong bytes:
 * a partial file written so far stays for resume.
 */
export class StreamFailedError extends ProtocolError {}
