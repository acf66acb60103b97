import assert from "node:assert/strict";
import { p256 } from "@noble/curves/nist.js";
import { ProtocolError } from "../base/mod.ts";
import {
  constantTimeEqual,
  M,
  N,
  passwordToScalar,
  Spake2,
  SPAKE2_M_HEX,
  SPAKE2_N_HEX,
  spake2KeySchedule,
  spake2Transcript,
} from "./spake2.ts";

// RFC 9382 Appendix B, SPAKE2-P256-SHA256-HKDF-HMAC (AAD empty).
const VECTORS = [
  {
    idA: "server",
    idB: "client",
    w: "2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
    x: "43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729",
    pA: "04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9" +
      "010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c",
    y: "dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be",
    pB: "0406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d0" +
      "9857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b7",
    K: "0412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69" +
      "f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d3325",
    TT: "06000000000000007365727665720600000000000000636c69656e74" +
      "410000000000000004a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9" +
      "010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c" +
      "41000000000000000406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d0" +
      "9857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b7" +
      "41000000000000000412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69" +
      "f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d3325" +
      "20000000000000002ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
    Ke: "0e0672dc86f8e45565d338b0540abe69",
    Ka: "15bdf72e2b35b5c9e5663168e960a91b",
    KcA: "00c12546835755c86d8c0db7851ae86f",
    KcB: "a9fa3406c3b781b93d804485430ca27a",
    cA: "58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0",
    cB: "d3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b",
  },
  {
    idA: "",
    idB: "client",
    w: "0548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
    x: "403abbe3b1b4b9ba17e3032849759d723939a27a27b9d921c500edde18ed654b",
    pA: "04a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44" +
      "fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a",
    y: "903023b6598908936ea7c929bd761af6039577a9c3f9581064187c3049d87065",
    pB: "04e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b" +
      "881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc",
    K: "048f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebd" +
      "a82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa6",
    TT: undefined,
    Ke: "642f05c473c2cd79909f9a841e2f30a7",
    Ka: "0bf89b18180af97353ba198789c2b963",
    KcA: "c6be376fc7cd1301fd0a13adf3e7bffd",
    KcB: "b7243f4ae60440a49b3f8cab3c1fba07",
    cA: "47d29e6666af1b7dd450d571233085d7a9866e4d49d2645e2df975489521232b",
    cB: "3313c5cefc361d27fb16847a91c2a73b766ffa90a4839122a9b70a2f6bd1d6df",
  },
  {
    idA: "server",
    idB: "",
    w: "626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
    x: "07adb3db6bc623d3399726bfdbfd3d15a58ea776ab8a308b00392621291f9633",
    pA: "04f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e1" +
      "5a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b0",
    y: "b6a4fc8dbb629d4ba51d6f91ed1532cf87adec98f25dd153a75accafafedec16",
    pB: "040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7" +
      "cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db",
    K: "0445ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3" +
      "ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe",
    TT: undefined,
    Ke: "005184ff460da2ce59062c87733c299c",
    Ka: "3521297d736598fc0a1127600efa1afb",
    KcA: "f3da53604f0aeecea5a33be7bddf6edf",
    KcB: "9e3f86848736f159bd92b6e107ec6799",
    cA: "bc9f9bbe99f26d0b2260e6456e05a86196a3307ec6663a18bf6ac825736533b2",
    cB: "c2370e1bf813b086dff0d834e74425a06e6390f48f5411900276dcccc5a297ec",
  },
  {
    idA: "",
    idB: "",
    w: "7bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca",
    x: "8cef65df64bb2d0f83540c53632de911b5b24b3eab6cc74a97609fd659e95473",
    pA: "04a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46c" +
      "a1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66",
    y: "d7a66f64074a84652d8d623a92e20c9675c61cb5b4f6a0063e4648a2fdc02d53",
    pB: "04589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc049466" +
      "2eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d",
    K: "041a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a9" +
      "94b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e135543772",
    TT: undefined,
    Ke: "fc6374762ba5cf11f4b2caa08b2cd1b9",
    Ka: "907ae0e26e8d6234318d91583cd74c86",
    KcA: "5dbd2f477166b7fb6d61febbd77a5563",
    KcB: "7689b4654407a5faeffdc8f18359d8a3",
    cA: "dfb4db8d48ae5a675963ea5e6c19d98d4ea028d8e898dad96ea19a80ade95dca",
    cB: "d0f0609d1613138d354f7e95f19fb556bf52d751947241e8c7118df5ef0ae175",
  },
];

const text = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function unhex(value: string): Uint8Array {
  return Uint8Array.from(value.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

async function pair(passwordA: string, passwordB: string, aadA?: Uint8Array, aadB?: Uint8Array) {
  const ids = { identityA: text.encode("alice"), identityB: text.encode("bob") };
  const a = await Spake2.start("A", text.encode(passwordA), { ...ids, aad: aadA });
  const b = await Spake2.start("B", text.encode(passwordB), { ...ids, aad: aadB });
  return { a: await a.finish(b.message), b: await b.finish(a.message) };
}

for (const [index, v] of VECTORS.entries()) {
  Deno.test(`Spake2 reproduces RFC 9382 P-256 vector ${index + 1} (A='${v.idA}', B='${v.idB}')`, async () => {
    const options = { identityA: text.encode(v.idA), identityB: text.encode(v.idB) };
    const w = BigInt(`0x${v.w}`);
    const a = await Spake2.startWithScalar("A", w, options, unhex(v.x));
    const b = await Spake2.startWithScalar("B", w, options, unhex(v.y));
    assert.deepEqual(hex(a.message), v.pA);
    assert.deepEqual(hex(b.message), v.pB);

    const tt = spake2Transcript({ ...options, pA: a.message, pB: b.message, k: unhex(v.K), w });
    if (v.TT !== undefined) assert.deepEqual(hex(tt), v.TT);
    const schedule = spake2KeySchedule(tt, new Uint8Array(0));
    assert.deepEqual(hex(schedule.ke), v.Ke);
    assert.deepEqual(hex(schedule.ka), v.Ka);
    assert.deepEqual(hex(schedule.kcA), v.KcA);
    assert.deepEqual(hex(schedule.kcB), v.KcB);
    assert.deepEqual(hex(schedule.cA), v.cA);
    assert.deepEqual(hex(schedule.cB), v.cB);

    // The state machine computes K itself; its outputs must match the vector too.
    const keysA = await a.finish(b.message);
    const keysB = await b.finish(a.message);
    assert.deepEqual(hex(keysA.sharedKey), v.Ke);
    assert.deepEqual(hex(keysB.sharedKey), v.Ke);
    assert.deepEqual(hex(keysA.ownConfirmation), v.cA);
    assert.deepEqual(hex(keysB.ownConfirmation), v.cB);
    assert.ok(keysA.verifyPeerConfirmation(unhex(v.cB)));
    assert.ok(keysB.verifyPeerConfirmation(unhex(v.cA)));
    assert.ok(!keysA.verifyPeerConfirmation(unhex(v.cA)));
  });
}

Deno.test("Spake2 uses RFC 9382's M and N for P-256", () => {
  // Both decode to valid points (would throw otherwise) with the published encodings.
  assert.deepEqual(p256.Point.fromHex(SPAKE2_M_HEX).toHex(true), SPAKE2_M_HEX);
  assert.deepEqual(p256.Point.fromHex(SPAKE2_N_HEX).toHex(true), SPAKE2_N_HEX);
  // The points the code uses, written as affine coordinates.
  assert.deepEqual(M.toHex(true), SPAKE2_M_HEX);
  assert.deepEqual(N.toHex(true), SPAKE2_N_HEX);
  M.assertValidity();
  N.assertValidity();
});

Deno.test("Spake2 gives both roles the same key and valid confirmations for the same password", async () => {
  const { a, b } = await pair("lantern-crossword", "lantern-crossword");
  assert.deepEqual(a.sharedKey, b.sharedKey);
  assert.deepEqual(a.sharedKey.length, 16);
  assert.ok(a.verifyPeerConfirmation(b.ownConfirmation));
  assert.ok(b.verifyPeerConfirmation(a.ownConfirmation));
});

Deno.test("Spake2 gives different keys each run with the same password", async () => {
  const first = await pair("lantern-crossword", "lantern-crossword");
  const second = await pair("lantern-crossword", "lantern-crossword");
  assert.notDeepEqual(first.a.sharedKey, second.a.sharedKey);
});

Deno.test("Spake2 confirmation fails on both sides with different passwords", async () => {
  const { a, b } = await pair("lantern-crossword", "lantern-crosswalk");
  assert.notDeepEqual(a.sharedKey, b.sharedKey);
  assert.ok(!a.verifyPeerConfirmation(b.ownConfirmation));
  assert.ok(!b.verifyPeerConfirmation(a.ownConfirmation));
});

Deno.test("Spake2 confirmation fails on both sides with different AAD (a TLS MITM)", async () => {
  const { a, b } = await pair(
    "lantern-crossword",
    "lantern-crossword",
    new Uint8Array(32).fill(1),
    new Uint8Array(32).fill(2),
  );
  // Same password: Ke agrees, but the confirmation keys depend on the AAD.
  assert.deepEqual(a.sharedKey, b.sharedKey);
  assert.ok(!a.verifyPeerConfirmation(b.ownConfirmation));
  assert.ok(!b.verifyPeerConfirmation(a.ownConfirmation));
});

Deno.test("Spake2 confirmation fails when both sides play the same role", async () => {
  const ids = { identityA: text.encode("alice"), identityB: text.encode("bob") };
  const password = text.encode("lantern-crossword");
  const one = await Spake2.start("A", password, ids);
  const two = await Spake2.start("A", password, ids);
  const keysOne = await one.finish(two.message);
  const keysTwo = await two.finish(one.message);
  assert.ok(!keysOne.verifyPeerConfirmation(keysTwo.ownConfirmation));
  assert.ok(!keysTwo.verifyPeerConfirmation(keysOne.ownConfirmation));
});

Deno.test("Spake2 confirmation fails when the identities differ", async () => {
  const password = text.encode("lantern-crossword");
  const a = await Spake2.start("A", password, {
    identityA: text.encode("p2pft receiver 7"),
    identityB: text.encode("p2pft sender 7"),
  });
  const b = await Spake2.start("B", password, {
    identityA: text.encode("p2pft receiver 8"),
    identityB: text.encode("p2pft sender 8"),
  });
  const keysA = await a.finish(b.message);
  const keysB = await b.finish(a.message);
  assert.ok(!keysA.verifyPeerConfirmation(keysB.ownConfirmation));
  assert.ok(!keysB.verifyPeerConfirmation(keysA.ownConfirmation));
});

Deno.test("Spake2.finish rejects invalid peer points with ProtocolError", async () => {
  const ids = { identityA: text.encode("a"), identityB: text.encode("b") };
  const password = text.encode("lantern-crossword");
  const valid = (await Spake2.start("B", password, ids)).message;
  const offCurve = valid.slice();
  offCurve[64] ^= 1;
  const compressed = p256.Point.fromBytes(valid).toBytes(true);
  const prime = unhex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
  const xTooBig = new Uint8Array(65);
  xTooBig[0] = 4;
  xTooBig.set(prime, 1);
  const w = passwordToScalar(password);
  const cancelsMask = p256.Point.fromHex(SPAKE2_N_HEX).multiply(w).toBytes(false);
  const bad: Array<[string, Uint8Array]> = [
    ["empty", new Uint8Array(0)],
    ["identity (SEC1 0x00)", new Uint8Array([0])],
    ["all zero", new Uint8Array(65)],
    ["off curve", offCurve],
    ["compressed", compressed],
    ["too long", new Uint8Array([...valid, 0])],
    ["truncated", valid.slice(0, 64)],
    ["x = p", xTooBig],
    ["w*N (K = identity)", cancelsMask],
  ];
  for (const [label, message] of bad) {
    const a = await Spake2.start("A", password, ids);
    await assert.rejects(a.finish(message), ProtocolError, label);
  }
});

Deno.test("Spake2.finish refuses to run twice", async () => {
  const ids = { identityA: text.encode("a"), identityB: text.encode("b") };
  const a = await Spake2.start("A", text.encode("x-y"), ids);
  const b = await Spake2.start("B", text.encode("x-y"), ids);
  await a.finish(b.message);
  await assert.rejects(a.finish(b.message), TypeError);
});

Deno.test("Spake2.share, bound later to the identities and AAD, agrees with a side started with them", async () => {
  const ids = { identityA: text.encode("alice"), identityB: text.encode("bob") };
  const aad = text.encode("fingerprint");
  const share = await Spake2.share("A", text.encode("x-y"));
  const a = share.bind({ ...ids, aad });
  assert.deepEqual(a.message, share.message);
  const b = await Spake2.start("B", text.encode("x-y"), { ...ids, aad });
  const [keysA, keysB] = [await a.finish(b.message), await b.finish(a.message)];
  assert.deepEqual(keysA.sharedKey, keysB.sharedKey);
  assert.ok(keysB.verifyPeerConfirmation(keysA.ownConfirmation));
  // The identities and the AAD still count: bound to others, the peer's confirmation fails.
  const other = (await Spake2.share("A", text.encode("x-y"))).bind({
    ...ids,
    aad: text.encode("x"),
  });
  const c = await Spake2.start("B", text.encode("x-y"), { ...ids, aad });
  const [keysO, keysC] = [await other.finish(c.message), await c.finish(other.message)];
  assert.ok(!keysC.verifyPeerConfirmation(keysO.ownConfirmation));
  // One secret, one exchange.
  assert.throws(() => share.bind(ids), TypeError);
  await assert.rejects(Spake2.share("A", new Uint8Array(0)), RangeError);
});

Deno.test("Spake2.start rejects bad arguments", async () => {
  const ids = { identityA: text.encode("a"), identityB: text.encode("b") };
  await assert.rejects(Spake2.start("A", new Uint8Array(0), ids), RangeError);
  await assert.rejects(Spake2.start("C" as "A", text.encode("x"), ids), TypeError);
  await assert.rejects(Spake2.start("A", text.encode("x"), ids, new Uint8Array(31)), RangeError);
  await assert.rejects(Spake2.start("A", text.encode("x"), ids, new Uint8Array(32)), RangeError);
  await assert.rejects(Spake2.startWithScalar("A", 0n, ids), RangeError);
});

Deno.test("passwordToScalar is deterministic, in range and password dependent", () => {
  const w = passwordToScalar(text.encode("lantern-crossword"));
  assert.deepEqual(w, passwordToScalar(text.encode("lantern-crossword")));
  assert.notDeepEqual(w, passwordToScalar(text.encode("lantern-crosswalk")));
  assert.ok(w > 0n && w < p256.Point.Fn.ORDER);
});

Deno.test("constantTimeEqual compares content and length", () => {
  assert.ok(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert.ok(!constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  assert.ok(!constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])));
});
