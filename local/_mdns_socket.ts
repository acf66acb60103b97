/**
 * One multicast DNS endpoint over both families (RFC 6762): a socket on
 * 0.0.0.0:5353 joined to 224.0.0.251 on the side's IPv4 addresses, and one on
 * [::]:5353 joined to ff02::fb on each interface that holds one of its IPv6
 * addresses. Both bind beside any other responder (SO_REUSEADDR). When IPv4
 * 5353 cannot be bound, an ephemeral IPv4 port asks for unicast answers.
 */
import {
  canonicalIp,
  type Datagram,
  DatagramQueue,
  osReason,
  P2pftError,
  ProtocolError,
} from "../base/mod.ts";
import { decodeDnsMessage, type DnsMessage, encodeDnsMessage, MAX_MESSAGE_SIZE } from "./dns.ts";

export const MDNS_GROUP = "224.0.0.251";
export const MDNS_GROUP_V6 = "ff02::fb";
export const MDNS_PORT = 5353;
/** RFC 6762 §11: mDNS packets go out with IP TTL 255 (receivers may check it). */
const MDNS_TTL = 255;
const MAX_QUEUED = 64;

export interface MdnsDatagram {
  message: DnsMessage;
  from: Deno.NetAddr;
}

interface Leg {
  conn: Deno.DatagramConn;
  memberships: { leave(): Promise<void> }[];
  /** IPv6 only: the indexes of the interfaces joined, each sent to (they scope link-local addresses). */
  links: number[];
}

export class MdnsSocket implements AsyncDisposable {
  readonly #v4: Leg | undefined;
  readonly #v6: Leg | undefined;
  readonly #queue = new DatagramQueue(MAX_QUEUED);
  readonly #reading: Promise<void>[];
  #closed: Promise<void> | undefined;

  private constructor(v4: Leg | undefined, v6: Leg | undefined) {
    this.#v4 = v4;
    this.#v6 = v6;
    this.#reading = [v4, v6].flatMap((leg) => leg ? [this.#read(leg)] : []);
  }

  /**
   * Opens the endpoint for the side's `addresses`: IPv4 ones join 224.0.0.251
   * there (none at all: on the interface the routing table picks), IPv6 ones
   * join ff02::fb on their interfaces. A family that fails (no IPv6 on this
   * host, say) is left out; throws P2pftError only when neither works.
   */
  static async open(addresses: string[]): Promise<MdnsSocket> {
    const ipv4 = addresses.filter((address) => !address.includes(":"));
    const ipv6 = addresses.filter((address) => address.includes(":"));
    const v6 = ipv6.length ? await openV6(ipv6) : undefined;
    if (ipv4.length === 0 && ipv6.length > 0) {
      if (v6 instanceof Error) throw v6;
      return new MdnsSocket(undefined, v6);
    }
    try {
      return new MdnsSocket(await openV4(ipv4), v6 instanceof Error ? undefined : v6);
    } catch (error) {
      if (v6 && !(v6 instanceof Error)) return new MdnsSocket(undefined, v6);
      throw error;
    }
  }

  /** Whether we hear the group on 5353, rather than only unicast answers to an ephemeral port. */
  get onMdnsPort(): boolean {
    return this.#v4 === undefined || (this.#v4.conn.addr as Deno.NetAddr).port === MDNS_PORT;
  }

  /**
   * Sends `message` to the groups of both families (ff02::fb on each joined
   * interface), or to `to` alone. A link-local `to` goes out on each joined
   * interface, since a received address carries no scope.
   */
  async send(message: DnsMessage, to?: Deno.NetAddr): Promise<void> {
    const bytes = encodeDnsMessage(message);
    const sends: [Deno.DatagramConn, Deno.NetAddr][] = [];
    const isV6 = to?.hostname.includes(":");
    if (this.#v4 && (to === undefined || !isV6)) {
      sends.push([
        this.#v4.conn,
        to ?? { transport: "udp", hostname: MDNS_GROUP, port: MDNS_PORT },
      ]);
    }
    if (this.#v6 && (to === undefined || isV6)) {
      const scoped = to === undefined || /^fe[89ab]/i.test(to.hostname);
      for (const link of scoped ? this.#v6.links : [undefined]) {
        const hostname = to?.hostname ?? MDNS_GROUP_V6;
        sends.push([this.#v6.conn, {
          transport: "udp",
          hostname: link ? `${hostname}%${link}` : hostname,
          port: to?.port ?? MDNS_PORT,
        }]);
      }
    }
    for (const [conn, destination] of sends) {
      try {
        await conn.send(bytes, destination);
      } catch (error) {
        // The reason alone, not Deno's "(os error 101)" after it.
        throw new P2pftError(
          `Cannot send multicast DNS to ${destination.hostname} port ${destination.port}: ${
            osReason(error)
          }`,
          { cause: error },
        );
      }
    }
  }

  /** The next well-formed DNS message from either family; malformed datagrams are skipped. */
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

  async #read(leg: Leg): Promise<void> {
    try {
      for await (const [data, from] of leg.conn) {
        const address = from as Deno.NetAddr;
        // [::]:5353 is dual-stack in Deno; the IPv4 socket hears IPv4 senders already.
        if (leg === this.#v6 && /^::ffff:\d/i.test(address.hostname)) continue;
        if (data.length <= MAX_MESSAGE_SIZE) this.#queue.push({ data, from: address });
      }
      this.#queue.fail(new P2pftError("The multicast DNS socket was closed"));
    } catch (error) {
      this.#queue.fail(
        new P2pftError(
          `Cannot receive multicast DNS: ${error instanceof Error ? error.message : error}`,
          { cause: error },
        ),
      );
    }
  }

  /** Leaves the groups and closes the sockets (a group must be left while its socket is open). */
  [Symbol.asyncDispose](): Promise<void> {
    this.#closed ??= (async () => {
      for (const leg of [this.#v4, this.#v6]) {
        if (!leg) continue;
        await Promise.allSettled(leg.memberships.map((m) => m.leave()));
        leg.conn.close();
      }
      await Promise.all(this.#reading);
    })();
    return this.#closed;
  }
}

function bind5353(hostname: string): Deno.DatagramConn {
  return Deno.listenDatagram({
    transport: "udp",
    hostname,
    port: MDNS_PORT,
    reuseAddress: true,
    loopback: true,
  });
}

async function openV4(addresses: string[]): Promise<Leg> {
  let conn: Deno.DatagramConn;
  try {
    conn = bind5353("0.0.0.0");
  } catch {
    // Another responder holds 5353 without sharing it: ask for unicast answers instead.
    return { conn: openEphemeral(), memberships: [], links: [] };
  }
  const memberships: Deno.MulticastV4Membership[] = [];
  try {
    for (const address of addresses.length ? addresses : ["0.0.0.0"]) {
      memberships.push(await conn.joinMulticastV4(MDNS_GROUP, address));
    }
    await memberships[0].setTTL(MDNS_TTL);
  } catch (error) {
    await Promise.allSettled(memberships.map((m) => m.leave()));
    conn.close();
    throw new P2pftError(
      `Cannot join the multicast DNS group ${MDNS_GROUP} on ${
        addresses.join(", ") || "the default interface"
      }: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
  return { conn, memberships, links: [] };
}

/**
 * Joins ff02::fb on each interface holding one of `addresses`; the error,
 * not thrown, when none can be joined. Deno's API has no IPV6_MULTICAST_HOPS,
 * so these packets leave with the default hop limit of 1 where RFC 6762 §11
 * asks for 255: they are link-scoped either way.
 */
async function openV6(addresses: string[]): Promise<Leg | P2pftError> {
  const links = interfacesOf(addresses);
  const failed = (reason: string, cause?: unknown) =>
    new P2pftError(
      `Cannot join the multicast DNS group ${MDNS_GROUP_V6} for ${addresses.join(", ")}: ${reason}`,
      { cause },
    );
  if (links.length === 0) {
    return failed("no interface with a link-local address (its scope id) holds them");
  }
  let conn: Deno.DatagramConn;
  try {
    conn = bind5353("::");
  } catch (error) {
    return failed(error instanceof Error ? error.message : String(error), error);
  }
  const memberships: Deno.MulticastV6Membership[] = [];
  const joined: number[] = [];
  let lastError: unknown;
  for (const link of links) {
    try {
      memberships.push(await conn.joinMulticastV6(MDNS_GROUP_V6, link));
      joined.push(link);
    } catch (error) {
      lastError = error;
    }
  }
  if (joined.length === 0) {
    conn.close();
    return failed(lastError instanceof Error ? lastError.message : String(lastError), lastError);
  }
  return { conn, memberships, links: joined };
}

/**
 * The indexes of the interfaces holding `addresses`: the scope id of each
 * one's link-local address, which every IPv6 interface but loopback has.
 */
function interfacesOf(addresses: string[]): number[] {
  const wanted = new Set(addresses.map(canonical));
  const all = Deno.networkInterfaces().filter((entry) => entry.family === "IPv6");
  const names = new Set(all.filter((e) => wanted.has(canonical(e.address))).map((e) => e.name));
  return [...names].flatMap((name) => {
    const index = all.find((e) => e.name === name && e.scopeid)?.scopeid;
    return index ? [index] : [];
  });
}

/** `address` without a zone id, in its one spelling. */
function canonical(address: string): string {
  return canonicalIp(address.replace(/%.*$/, ""));
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
