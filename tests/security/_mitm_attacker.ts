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
import {
  ACK,
  CHOSEN,
  CHOSEN_ACK,
  decodeProbe,
  encodeProbe,
  PROBE,
  sameBytes,
} from "./_probe_wire.ts";

const ALPN = "p2pft/1";
const SERVER_NAME = "peer.p2pft.invalid";
const TRANSPORT = { keepAliveInterval: 2_500, maxIdleTimeout: 10_000 } as const;
const PROBE_INTERVAL_MS = 100;
/** How long a chosen side keeps answering before it binds QUIC on the port (as the real sender). */
const LINGER_MS = 250;

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
    const report: MitmReport = {
      receiverConnected: false,
      senderConnected: false,
      receiverToSender: 0,
      senderToReceiver: 0,
      streamsFromSender: 0,
      relayed: [],
    };
    const [receiverPort, toSender] = await Promise.all([
      this.#punchAsSender(pairing, signal),
      this.#punchAsReceiver(pairing, signal),
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
    const relayedUp: Uint8Array[] = [];
    const relayedDown: Uint8Array[] = [];
    const up = pump(fromReceiver.readable, toSenderStream.writable, (chunk) => {
      report.receiverToSender += chunk.length;
      relayedUp.push(chunk.slice());
    });
    const down = pump(toSenderStream.readable, fromReceiver.writable, (chunk) => {
      report.senderToReceiver += chunk.length;
      relayedDown.push(chunk.slice());
    });
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
    await Promise.all([up, down, watchSender, watchSenderUni]);
    report.relayed = [...relayedUp, ...relayedDown, ...endMessages];
    return report;
  }

  /** The attack over the TLS link: the receiver's link in, one to the real sender out. */
  async #relayTls(
    listener: TlsPeerListener,
    pairing: Intercepted,
    senderCertificate: Uint8Array,
    signal: AbortSignal,
  ): Promise<MitmReport> {
    const report: MitmReport = {
      receiverConnected: false,
      senderConnected: false,
      receiverToSender: 0,
      senderToReceiver: 0,
      streamsFromSender: 0,
      relayed: [],
    };
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
    const watchSender = (async () => {
      for (;;) {
        await senderLink.acceptStream();
        report.streamsFromSender++;
      }
    })().catch(() => {});
    // The receiver opens the PAKE stream and writes SHARE at once.
    const fromReceiver = await receiverLink.acceptStream();
    const toSenderStream = await senderLink.openStream();
    const relayedUp: Uint8Array[] = [];
    const relayedDown: Uint8Array[] = [];
    const up = pump(fromReceiver.readable, toSenderStream.writable, (chunk) => {
      report.receiverToSender += chunk.length;
      relayedUp.push(chunk.slice());
    });
    const down = pump(toSenderStream.readable, fromReceiver.writable, (chunk) => {
      report.senderToReceiver += chunk.length;
      relayedDown.push(chunk.slice());
    });
    // Whoever hangs up first, the attacker hangs up the other side too.
    const first = await Promise.race([
      receiverLink.closed.then(() => senderLink),
      senderLink.closed.then(() => receiverLink),
    ]);
    await first.close({ failed: true, message: "peer left" });
    await Promise.all([up, down, watchSender]);
    report.relayed = [...relayedUp, ...relayedDown];
    return report;
  }

  /** Answers the receiver's probes as the sender; returns the port it chose. */
  async #punchAsSender(pairing: Intercepted, signal: AbortSignal): Promise<number> {
    const socket = this.towardReceiver;
    const port = this.addr(socket).port;
    const say = (type: number, nonce: number, to: Deno.NetAddr, certificate?: Uint8Array) =>
      socket.send(
        encodeProbe({ type, token: pairing.token, from: pairing.sender.id, nonce, certificate }),
        to,
      ).catch(() => {});
    let nonce = 1;
    const prober = setInterval(() => say(PROBE, nonce++, pairing.receiver.addr), PROBE_INTERVAL_MS);
    let linger: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => socket.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        let data: Uint8Array, from: Deno.NetAddr;
        try {
          [data, from] = (await socket.receive()) as [Uint8Array, Deno.NetAddr];
        } catch {
          signal.throwIfAborted();
          return port; // closed after lingering: QUIC binds the port next
        }
        const probe = decodeProbe(data);
        if (!probe || !valid(probe, pairing, pairing.receiver.id)) continue;
        if (probe.type === PROBE) await say(ACK, probe.nonce, from);
        if (probe.type === CHOSEN) {
          await say(CHOSEN_ACK, probe.nonce, from, this.certificate.der);
          clearInterval(prober);
          linger ??= setTimeout(() => socket.close(), LINGER_MS);
        }
      }
    } finally {
      clearInterval(prober);
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Punches with the sender as the receiver; returns the port and the sender's certificate. */
  async #punchAsReceiver(
    pairing: Intercepted,
    signal: AbortSignal,
  ): Promise<{ port: number; certificate: Uint8Array }> {
    const socket = this.towardSender;
    const port = this.addr(socket).port;
    const say = (type: number, nonce: number, to: Deno.NetAddr) =>
      socket.send(encodeProbe({ type, token: pairing.token, from: pairing.receiver.id, nonce }), to)
        .catch(() => {});
    let nonce = 1;
    let chosen = false;
    const ticker = setInterval(
      () => say(chosen ? CHOSEN : PROBE, nonce++, pairing.sender.addr),
      PROBE_INTERVAL_MS,
    );
    const onAbort = () => socket.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const [data, from] = (await socket.receive()) as [Uint8Array, Deno.NetAddr];
        const probe = decodeProbe(data);
        if (!probe || !valid(probe, pairing, pairing.sender.id)) continue;
        if (probe.type === PROBE) await say(ACK, probe.nonce, from);
        if (probe.type === ACK && !chosen) {
          chosen = true;
          await say(CHOSEN, nonce++, pairing.sender.addr);
        }
        if (probe.type === CHOSEN_ACK && probe.certificate) {
          socket.close();
          return { port, certificate: probe.certificate };
        }
      }
    } catch (error) {
      signal.throwIfAborted();
      throw error;
    } finally {
      clearInterval(ticker);
      signal.removeEventListener("abort", onAbort);
    }
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

function valid(
  probe: { token: Uint8Array; from: Uint8Array },
  pairing: Intercepted,
  from: Uint8Array,
) {
  return sameBytes(probe.token, pairing.token) && sameBytes(probe.from, from);
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
