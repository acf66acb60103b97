/** The wire message for a room store's answer (`RoomAnswer`) to one client. */
import type { RoomAnswer } from "../store/mod.ts";
import type { RendezvousMessage } from "../wire/mod.ts";

/** The message that carries `answer` to client `clientId`. */
export function answerMessage(clientId: Uint8Array, answer: RoomAnswer): RendezvousMessage {
  switch (answer.kind) {
    case "waiting":
      return { type: "waiting", clientId, nameplate: answer.nameplate, observed: answer.observed };
    case "paired": {
      const message: RendezvousMessage = {
        type: "paired",
        clientId,
        nameplate: answer.nameplate,
        token: answer.token,
        observed: answer.observed,
        peer: answer.peer,
      };
      if (answer.relay !== undefined) message.relay = answer.relay;
      return message;
    }
    default: {
      const { code, nameplate, limit } = answer;
      return {
        type: "error",
        clientId,
        code,
        ...(nameplate === undefined ? {} : { nameplate }),
        ...(limit === undefined ? {} : { limit }),
      };
    }
  }
}
