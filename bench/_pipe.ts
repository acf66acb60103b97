/** A copy benchmark's view of one connection or stream: read, write all, end the writing half. */
import { writeAll } from "../base/mod.ts";

/** A connection or stream as read/write calls (a Deno TCP or TLS connection, a QUIC stream, node:tls). */
export interface Pipe {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<void>;
  end(): Promise<void>;
}

/** A Deno connection (TCP or TLS) as a `Pipe`. */
export function connPipe(conn: Deno.Conn): Pipe {
  return {
    read: (buffer) => conn.read(buffer),
    write: (bytes) => writeAll(conn, bytes),
    end: () => conn.closeWrite(),
  };
}
