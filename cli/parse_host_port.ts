import { canonicalIp, isIpv4Mapped, parseIpv6 } from "../base/mod.ts";
import { isEncodableAddr } from "../rendezvous/wire/checks_mod.ts";

/** One label of a host name (RFC 1123): 1-63 characters, no hyphen at either end. */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Parses `"host:port"` (or `"[v6]:port"`, or `"host"` when `defaultPort` is
 * given) into its parts. An IPv6 address comes back without brackets, in its
 * canonical text (RFC 5952).
 * @throws {TypeError} with the offending text when it is not a valid address.
 */
export function parseHostPort(
  text: string,
  defaultPort?: number,
): { hostname: string; port: number } {
  const fail = (why: string): never => {
    throw new TypeError(`Invalid address ${JSON.stringify(text)}: ${why}`);
  };
  if (typeof text !== "string") fail("expected a string like 127.0.0.1:9000");
  const trimmed = text.trim();
  if (trimmed === "") fail("it is empty; expected host:port, e.g. 127.0.0.1:9000");
  // A URL pasted from a browser or a chat: its scheme would read as an IPv6 address below.
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(trimmed);
  if (scheme) fail(`give host:port without ${scheme[0]}, e.g. rendezvous.example.org:9000`);
  let hostname: string;
  let portText: string | undefined;
  if (trimmed.startsWith("[")) {
    const close = trimmed.indexOf("]");
    if (close < 0) fail("missing ] after an IPv6 address");
    hostname = trimmed.slice(1, close);
    const rest = trimmed.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) fail("expected :port after ]");
      portText = rest.slice(1);
    }
    if (hostname === "") fail("nothing between [ and ]; expected an IPv6 address, e.g. [::1]:9000");
    if (hostname.includes("%")) fail("IPv6 zone ids (%) are not supported");
    const v6 = parseIpv6(hostname);
    if (v6 !== undefined && isIpv4Mapped(v6)) {
      fail(`write the IPv4-mapped address ${hostname} as its IPv4 address, without brackets`);
    }
    if (!hostname.includes(":") || !isEncodableAddr({ transport: "udp", hostname, port: 1 })) {
      fail(`${JSON.stringify(hostname)} is not an IPv6 address`);
    }
    hostname = canonicalIp(hostname);
  } else if (/[[\]]/.test(trimmed)) {
    fail("brackets go around an IPv6 address at the start, e.g. [2001:db8::10]:9000");
  } else {
    const colon = trimmed.lastIndexOf(":");
    if (colon >= 0 && trimmed.indexOf(":") !== colon) {
      fail("put an IPv6 address in brackets, e.g. [::1]:9000");
    }
    hostname = colon >= 0 ? trimmed.slice(0, colon) : trimmed;
    portText = colon >= 0 ? trimmed.slice(colon + 1) : undefined;
    if (hostname === "") fail("the host is missing");
    if (!/^[A-Za-z0-9.-]+$/.test(hostname) || hostname.length > 253) {
      fail(`host ${JSON.stringify(hostname)} is not a valid host name or IPv4 address`);
    }
    // Refused here, not by a resolver: a name no server could hold never reaches DNS.
    const label = hostname.replace(/\.$/, "").split(".").find((part) => !LABEL.test(part));
    if (label !== undefined) {
      fail(
        `host ${JSON.stringify(hostname)} is not a valid host name: ${
          label === "" ? "an empty label" : `label ${JSON.stringify(label)}`
        } (each dot-separated label is 1-63 letters, digits or inner hyphens)`,
      );
    }
  }
  let port: number;
  if (portText === undefined) {
    if (defaultPort === undefined) fail("the port is missing; expected host:port");
    if (!Number.isInteger(defaultPort) || defaultPort! < 1 || defaultPort! > 65535) {
      throw new RangeError(`Invalid default port ${defaultPort}: expected 1 to 65535`);
    }
    port = defaultPort!;
  } else {
    if (!/^[0-9]{1,5}$/.test(portText)) {
      fail(`port ${JSON.stringify(portText)} is not a number from 1 to 65535`);
    }
    port = Number(portText);
    if (port < 1 || port > 65535) fail(`port ${port} is not a number from 1 to 65535`);
  }
  return { hostname: hostname!, port };
}
