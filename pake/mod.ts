/**
 * Password-authenticated key exchange for p2pft: SPAKE2 (RFC 9382, suite
 * SPAKE2-P256-SHA256-HKDF-HMAC) and the key-confirmation handshake that runs
 * it over the link's first stream (QUIC, or the TLS link over TCP), bound to
 * the sender's certificate. See PROTOCOL.md.
 *
 * @module
 */
export {
  passwordToScalar,
  Spake2,
  type Spake2Keys,
  type Spake2Options,
  type Spake2Role,
  type Spake2Share,
} from "./spake2.ts";
export {
  bindSpake,
  CHANNEL_BINDING_LENGTH,
  type PakeHandshakeOptions,
  type PakeHandshakeResult,
  receiverIdentity,
  runPakeHandshake,
  senderIdentity,
  shareSpake,
  startSpake,
} from "./handshake.ts";
export { PAKE_VERSION } from "./_frame.ts";
