/**
 * Postgres wire-protocol framing for the local pooler: splits a byte stream into whole messages
 * and builds the few messages the pooler speaks itself. Hand-written because forwarding needs
 * each message's raw bytes, which pg-protocol's parser does not hand back.
 */

/** Splits a stream into complete messages; the first may be untyped (a startup packet). */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);
  private untypedNext: boolean;

  constructor(untypedFirst = false) {
    this.untypedNext = untypedFirst;
  }

  /** Feeds a chunk; returns the messages it completed, each its whole bytes. */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const header = this.untypedNext ? 0 : 1;
      if (this.buffered.length - offset < header + 4) break;
      const size = header + this.buffered.readInt32BE(offset + header);
      if (this.buffered.length - offset < size) break;
      messages.push(this.buffered.subarray(offset, offset + size));
      offset += size;
      this.untypedNext = false;
    }
    this.buffered = this.buffered.subarray(offset);
    return messages;
  }

  /** The next message is untyped again (a client's startup packet after refusing SSL). */
  expectUntyped(): void {
    this.untypedNext = true;
  }
}

/** The first byte of the messages the pooler looks at. */
export const MESSAGE = {
  sync: 0x53,
  query: 0x51,
  functionCall: 0x46,
  terminate: 0x58,
  ready: 0x5a,
  password: 0x70,
  authentication: 0x52,
  error: 0x45,
} as const;
/** ReadyForQuery's status byte outside a transaction. */
export const IDLE_STATUS = 0x49;

export const SSL_REQUEST_CODE = 80877103;
export const CANCEL_REQUEST_CODE = 80877102;

/** A startup packet's protocol code and its parameters (user, database, …). */
export function readStartup(packet: Buffer): { code: number; parameters: Map<string, string> } {
  const code = packet.readInt32BE(4);
  const parameters = new Map<string, string>();
  const fields = packet.subarray(8).toString("utf8").split("\0");
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === "") break;
    parameters.set(fields[index], fields[index + 1]);
  }
  return { code, parameters };
}

export function startupPacket(parameters: Record<string, string>): Buffer {
  const body = Buffer.from(`${Object.entries(parameters).flat().join("\0")}\0\0`, "utf8");
  const packet = Buffer.alloc(8 + body.length);
  packet.writeInt32BE(packet.length, 0);
  packet.writeInt32BE(196608, 4); // protocol 3.0
  body.copy(packet, 8);
  return packet;
}

export function typedMessage(type: string, body: Buffer): Buffer {
  const message = Buffer.alloc(5 + body.length);
  message.write(type, 0, "latin1");
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

/** A simple-protocol Query message. */
export function queryMessage(text: string): Buffer {
  const body = Buffer.from(`${text}\0`, "utf8");
  const message = Buffer.alloc(5 + body.length);
  message[0] = MESSAGE.query;
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

export function passwordMessage(password: string): Buffer {
  return typedMessage("p", Buffer.from(`${password}\0`, "utf8"));
}

/** AuthenticationCleartextPassword: what Neon's proxy and the local Postgres both ask for. */
export function cleartextPasswordRequest(): Buffer {
  const code = Buffer.alloc(4);
  code.writeInt32BE(3);
  return typedMessage("R", code);
}

/** An ErrorResponse with a severity, SQLSTATE and message. */
export function errorResponse(code: string, message: string): Buffer {
  const fields = `SFATAL\0VFATAL\0C${code}\0M${message}\0\0`;
  return typedMessage("E", Buffer.from(fields, "utf8"));
}

/** The text of a PasswordMessage. */
export function passwordText(message: Buffer): string {
  return message.subarray(5, message.length - 1).toString("utf8");
}
