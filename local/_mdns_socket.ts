/**
 * One multicast DNS socket: bound to port 5353 beside any other responder
 * (SO_REUSEADDR), joined to 224.0.0.251 on the given interfaces; or, when
 * 5353 cannot be bound, an ephemeral port that only asks for unicast answers.
 */
import { type Datagram, DatagramQueue } from "../datagram_queue.ts";
import { P2pftError, ProtocolError } from "../errors.ts";
import { decodeDnsMessage, type DnsMessage, encodeDnsMessage, MAX_MESSAGE_SIZE } from "./dns.ts";

export const MDNS_GROUP = "224.0.0.251";
export const MDNS_PORT = 5353;
/** RFC 6762 §11: mDNS packets go out with IP TTL 255 (receivers may check it). */
const MDNS_TTL = 255;
const MAX_QUEUED = 64;

export const MDNS_DESTINATION: Deno.NetAddr = {
  transport: "udp",
  hostname: MDNS_GROUP,
  port: MDNS_PORT,
};

export interface MdnsDatagram {
  message: DnsMessage;
  from: Deno.NetAddr;
}

export class MdnsSocket implements AsyncDisposable {
  readonly #conn: Deno.DatagramConn;
  readonly #memberships: Deno.MulticastV4Membership[];
  readonly #queue = new DatagramQueue(MAX_QUEUED);
  readonly #reading: Promise<void>;
  #closed: Promise<void> | undefined;

  private constructor(conn: Deno.DatagramConn, memberships: Deno.MulticastV4Membership[]) {
    this.#conn = conn;
    this.#memberships = memberships;
    this.#reading = this.#read();
  }

  /**
   * Opens the socket and joins the group on each IPv4 address of `interfaces`
   * (none: the interface the routing table picks). Throws P2pftError when
   * neither port 5353 nor an ephemeral port can be bound or joined.
   */
  static async open(interfaces: string[]): Promise<MdnsSocket> {
    let conn: Deno.DatagramConn;
    try {
      conn = Deno.listenDatagram({
        transport: "udp",
        hostname: "0.0.0.0",
        port: MDNS_PORT,
        reuseAddress: true,
        loopback: true,
      });
    } catch {
      // Another responder holds 5353 without sharing it: ask for unicast answers instead.
      conn = openEphemeral();
      return new MdnsSocket(conn, []);
    }
    const memberships: Deno.MulticastV4Membership[] = [];
    try {
      for (const address of interfaces.length ? interfaces : ["0.0.0.0"]) {
        memberships.push(await conn.joinMulticastV4(MDNS_GROUP, address));
      }
      await memberships[0].setTTL(MDNS_TTL);
    } catch (error) {
      await Promise.allSettled(memberships.map((m) => m.leave()));
      conn.close();
      throw new P2pftError(
        `Cannot join the multicast DNS group ${MDNS_GROUP} on ${
          interfaces.join(", ") || "the default interface"
        }: ${error instanceof Error ? error.message : error}`,
        { cause: error },
      );
    }
    return new MdnsSocket(conn, memberships);
  }

  /** Whether we listen on 5353 and hear the group, or only unicast answers to our port. */
  get onMdnsPort(): boolean {
    return (this.#conn.addr as Deno.NetAddr).port === MDNS_PORT;
  }

  /** Sends `message` to the group, or to `to`. */
  async send(message: DnsMessage, to: Deno.NetAddr = MDNS_DESTINATION): Promise<void> {
    try {
      await this.#conn.send(encodeDnsMessage(message), to);
    } catch (error) {
      throw new P2pftError(
        `Cannot send multicast DNS to ${to.hostname}:${to.port}: ${
          error instanceof Error ? error.message : error
        }`,
        { cause: error },
      );
    }
  }

  /** The next well-formed DNS message; malformed datagrams are skipped. */
  async receive(signal: AbortSignal): Promise<MdnsDatagram> {
    for (;;) {
      const { data, from }: Datagram = await this.#queue.take(signal);
      try {
        return { message: decodeDnsMessage(data), from };
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
      }
    }
  }

  async #read(): Promise<void> {
    try {
      for await (const [data, from] of this.#conn) {
        if (data.length <= MAX_MESSAGE_SIZE) this.#queue.push({ data, from: from as Deno.NetAddr });
      }
      this.#queue.fail(new P2pftError("The multicast DNS socket was closed"));
    } catch (error) {
      this.#queue.fail(
        new P2pftError(
          `Cannot receive multicast DNS: ${error instanceof Error ? error.message : error}`,
          {
            cause: error,
          },
        ),
      );
    }
  }

  /** Leaves the group and closes the socket (the group must be left while it is open). */
  [Symbol.asyncDispose](): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.allSettled(this.#memberships.map((m) => m.leave()));
      this.#conn.close();
      await this.#reading;
    })();
    return this.#closed;
  }
}

function openEphemeral(): Deno.DatagramConn {
  try {
    return Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  } catch (error) {
    throw new P2pftError(
      `Cannot open a UDP socket for multicast DNS: ${
        error instanceof Error ? error.message : error
      }`,
      { cause: error },
    );
  }
}
