/**
 * The man in the middle, in the test process. With the pairing the lying
 * rendezvous server gave away (token, both ids, both real addresses) it
 * punches with the receiver AS THE SENDER (answering chosen-ack with its own
 * certificate) and with the sender AS THE RECEIVER (learning the sender's
 * real certificate), terminates the receiver's QUIC connection, dials the
 * real sender, and relays the PAKE stream's bytes both ways, counting them.
 * With `transport: "tcp"` it does the same over the TLS link: it listens for
 * TLS on its punch port's number, as a real sender does, and dials the real
 * sender's TLS listener.
 */
import {
  certificatePem,
  createPeerCertificate,
  dialTlsPeer,
  listenTlsPeer,
  type PeerCertificate,
  type PeerLink,
  type TlsPeerListener,
} from "../../peer/mod.ts";
import type { Intercepted } from "./_lying_rendezvous.ts";
import type { ByteStream } from "../../transfer/mod.ts";
import { punchAsReceiver, punchAsSender } from "./_mitm_punch.ts";

const ALPN = "p2pft/1";
const SERVER_NAME = "peer.p2pft.invalid";
const TRANSPORT = { keepAliveInterval: 2_500, maxIdleTimeout: 10_000 } as const;

export interface MitmReport {
  /** Whether the receiver dialled the attacker over QUIC (it pinned the attacker's certificate). */
  receiverConnected: boolean;
  /** Whether the attacker completed QUIC with the real sender. */
  senderConnected: boolean;
  /** PAKE stream bytes relayed receiver → sender and sender → receiver. */
  receiverToSender: number;
  senderToReceiver: number;
  /** Streams the real sender opened towards the attacker (its transfer would start with one). */
  streamsFromSender: number;
  /** Everything relayed, receiver → sender then sender → receiver (to search for file bytes). */
  relayed: Uint8Array[];
}

export class MitmAttacker implements AsyncDisposable {
  /** The socket the receiver is sent to (the "sender" it will pin). */
  readonly towardReceiver: Deno.DatagramConn;
  /** The socket the sender is sent to (the "receiver" it will accept). */
  readonly towardSender: Deno.DatagramConn;
  readonly certificate: PeerCertificate;
  readonly #endpoints: Deno.QuicEndpoint[] = [];
  readonly #conns: Deno.QuicConn[] = [];
  readonly #links: PeerLink[] = [];
  /** Present with `transport: "tcp"`: where the receiver's TLS link arrives. */
  readonly #tls?: TlsPeerListener;

  private constructor(certificate: PeerCertificate, transport: "quic" | "tcp") {
    this.certificate = certificate;
    this.towardReceiver = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    this.towardSender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    if (transport === "tcp") {
      this.#tls = listenTlsPeer(this.addr(this.towardReceiver).port, {
        certificate,
        hostname: "127.0.0.1",
      });
    }
  }

  static async create(transport: "quic" | "tcp" = "quic"): Promise<MitmAttacker> {
    return new MitmAttacker(await createPeerCertificate(), transport);
  }

  addr(socket: Deno.DatagramConn): Deno.NetAddr {
    const { hostname, port } = socket.addr as Deno.NetAddr;
    return { transport: "udp", hostname, port };
  }

  /** Runs the whole attack; resolves once both real peers hung up (or `signal` aborts). */
  async run(pairing: Intercepted, signal: AbortSignal): Promise<MitmReport> {
    const report = emptyReport();
    const [receiverPort, toSender] = await Promise.all([
      punchAsSender(this.towardReceiver, pairing, this.certificate.der, signal),
      punchAsReceiver(this.towardSender, pairing, signal),
    ]);
    if (this.#tls) return await this.#relayTls(this.#tls, pairing, toSender.certificate, signal);
    // Sender side: dial the real sender with its real (pinned) certificate.
    const dialing = this.#dialSender(toSender.port, pairing.sender.addr, toSender.certificate);
    // Receiver side: accept its QUIC connection with our own certificate.
    const accepting = this.#acceptReceiver(receiverPort);
    accepting.catch(() => {});
    dialing.catch(() => {});
    const stop = new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    stop.catch(() => {});
    const senderConn = await Promise.race([dialing, stop]);
    report.senderConnected = true;
    let receiverConn: Deno.QuicConn;
    try {
      receiverConn = await withTimeout(Promise.race([accepting, stop]), 5_000);
    } catch {
      // The receiver refused us before QUIC (certificate check): hang up on the sender too.
      senderConn.close({ closeCode: 1, reason: "the receiver never came" });
      await senderConn.closed.catch(() => {});
      return report;
    }
    report.receiverConnected = true;
    const watchSender = (async () => {
      for await (const _ of senderConn.incomingBidirectionalStreams) report.streamsFromSender++;
    })().catch(() => {});
    // The sender's only unidirectional stream is its end message (peer/PROTOCOL.md,
    // "Ending a session"), at most 201 bytes: keep what it says with the relayed bytes
    // (searched for file bytes too); anything longer would be a transfer.
    const endMessages: Uint8Array[] = [];
    const watchSenderUni = (async () => {
      for await (const stream of senderConn.incomingUnidirectionalStreams) {
        const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
        endMessages.push(bytes);
        if (bytes.length > 201) report.streamsFromSender++;
      }
    })().catch(() => {});
    // The receiver opens the PAKE stream and writes SHARE at once.
    const fromReceiver = await firstStream(receiverConn);
    const toSenderStream = await senderConn.createBidirectionalStream();
    const relay = relayCounted(fromReceiver, toSenderStream, report);
    // Whoever hangs up first, the attacker hangs up the other side the same way.
    const closed = await Promise.race([
      receiverConn.closed.then(
        (info) => ({ side: "receiver", info }),
        () => ({ side: "receiver" }),
      ),
      senderConn.closed.then((info) => ({ side: "sender", info }), () => ({ side: "sender" })),
      stop,
    ]);
    const other = closed.side === "receiver" ? senderConn : receiverConn;
    other.close({ closeCode: 1, reason: "peer left" });
    await Promise.all([receiverConn.closed.catch(() => {}), senderConn.closed.catch(() => {})]);
    await Promise.all([relay, watchSender, watchSenderUni]);
    report.relayed.push(...endMessages);
    return report;
  }

  /** The attack over the TLS link: the receiver's link in, one to the real sender out. */
  async #relayTls(
    listener: TlsPeerListener,
    pairing: Intercepted,
    senderCertificate: Uint8Array,
    signal: AbortSignal,
  ): Promise<MitmReport> {
    const report = emptyReport();
    const sender = pairing.sender.addr;
    const senderLink = await dialTlsPeer(
      { transport: "tcp", hostname: sender.hostname, port: sender.port },
      { peerCertificatePem: certificatePem(senderCertificate), signal },
    );
    this.#links.push(senderLink);
    report.senderConnected = true;
    let receiverLink: PeerLink;
    try {
      receiverLink = await listener.accept({ timeoutMs: 5_000, signal });
    } catch {
      await senderLink.close({ failed: true, message: "the receiver never came" });
      return report;
    }
    this.#links.push(receiverLink);
    report.receiverConnected = true;
    // Over the TLS link (v3) a receiver dials the sender's streams ahead, so a stream exists
    // before the sender picks it: it counts once the sender writes on it. A transfer would
    // write on its first (the control stream); more than enough are watched.
    const watchSender = (async () => {
      for (let accepted = 0; accepted < 8; accepted++) {
        const stream = await senderLink.acceptStream();
        stream.readable.getReader().read().then(({ value }) => {
          if (value?.length) report.streamsFromSender++;
        }, () => {});
      }
    })().catch(() => {});
    // The receiver opens the PAKE stream and writes SHARE at once.
    const fromReceiver = await receiverLink.acceptStream();
    const toSenderStream = await senderLink.openStream();
    const relay = relayCounted(fromReceiver, toSenderStream, report);
    // Whoever hangs up first, the attacker hangs up the other side too.
    const first = await Promise.race([
      receiverLink.closed.then(() => senderLink),
      senderLink.closed.then(() => receiverLink),
    ]);
    await first.close({ failed: true, message: "peer left" });
    await Promise.all([relay, watchSender]);
    return report;
  }

  async #dialSender(
    port: number,
    sender: Deno.NetAddr,
    certificate: Uint8Array,
  ): Promise<Deno.QuicConn> {
    const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port });
    this.#endpoints.push(endpoint);
    const conn = await Deno.connectQuic({
      ...TRANSPORT,
      endpoint,
      hostname: sender.hostname,
      port: sender.port,
      serverName: SERVER_NAME,
      alpnProtocols: [ALPN],
      caCerts: [certificatePem(certificate)],
    });
    this.#conns.push(conn);
    await conn.handshake;
    return conn;
  }

  async #acceptReceiver(port: number): Promise<Deno.QuicConn> {
    const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port });
    this.#endpoints.push(endpoint);
    const listener = endpoint.listen({
      ...TRANSPORT,
      alpnProtocols: [ALPN],
      cert: this.certificate.certPem,
      key: this.certificate.keyPem,
    });
    try {
      const conn = await listener.accept();
      this.#conns.push(conn);
      return conn;
    } finally {
      listener.stop();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const link of this.#links) await link.close({ failed: true, message: "attack over" });
    await this.#tls?.[Symbol.asyncDispose]();
    for (const socket of [this.towardReceiver, this.towardSender]) {
      try {
        socket.close();
      } catch { /* already closed */ }
    }
    for (const conn of this.#conns) {
      try {
        conn.close({ closeCode: 0, reason: "" });
      } catch { /* already closed */ }
      await conn.closed.catch(() => {});
    }
    for (const endpoint of this.#endpoints) endpoint.close();
  }
}

async function firstStream(conn: Deno.QuicConn): Promise<Deno.QuicBidirectionalStream> {
  const reader = conn.incomingBidirectionalStreams.getReader();
  try {
    const { value, done } = await reader.read();
    if (done) throw new Error("the receiver opened no stream");
    return value;
  } finally {
    reader.releaseLock();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function emptyReport(): MitmReport {
  return {
    receiverConnected: false,
    senderConnected: false,
    receiverToSender: 0,
    senderToReceiver: 0,
    streamsFromSender: 0,
    relayed: [],
  };
}

/**
 * Relays the PAKE stream both ways, counting into `report`; once both
 * directions ended, `report.relayed` holds receiver → sender then sender →
 * receiver.
 */
async function relayCounted(
  fromReceiver: ByteStream,
  toSender: ByteStream,
  report: MitmReport,
): Promise<void> {
  const up: Uint8Array[] = [];
  const down: Uint8Array[] = [];
  await Promise.all([
    pump(fromReceiver.readable, toSender.writable, (chunk) => {
      report.receiverToSender += chunk.length;
      up.push(chunk.slice());
    }),
    pump(toSender.readable, fromReceiver.writable, (chunk) => {
      report.senderToReceiver += chunk.length;
      down.push(chunk.slice());
    }),
  ]);
  report.relayed.push(...up, ...down);
}

/** Copies `from` into `to`, calling `onChunk` for each chunk; ends quietly on any failure. */
async function pump(
  from: ReadableStream<Uint8Array>,
  to: WritableStream<Uint8Array>,
  onChunk: (chunk: Uint8Array) => void,
): Promise<void> {
  const writer = to.getWriter();
  try {
    for await (const chunk of from) {
      onChunk(chunk);
      await writer.write(chunk);
    }
    await writer.close();
  } catch {
    // a side hung up
  } finally {
    writer.releaseLock();
  }
}
