/**
 * A scripted Anthropic Messages API server on loopback for the harness
 * conformance suite (Claude Code, pi). It records every request body (the
 * request log) and answers each `POST /v1/messages` from a script: a tool
 * call or a final text, streamed as Server-Sent Events the way the real API
 * does (`message_start`, `content_block_start`, `content_block_delta` with
 * `text_delta` or `input_json_delta`, `content_block_stop`, `message_delta`,
 * `message_stop`), or as one JSON message when the client did not ask for a
 * stream.
 *
 * @module
 */

/** What the model does in one turn. */
export type Reply =
  | { text: string; delayMs?: number }
  | { tool: { name: string; input: Record<string, unknown> }; text?: string; delayMs?: number };

/** One recorded request. */
export interface RecordedRequest {
  /** Request path, e.g. `/v1/messages`. */
  path: string;
  /** The parsed JSON body (`null` when there was none or it was not JSON). */
  body: Record<string, unknown> | null;
  /** The raw body text. */
  raw: string;
}

/** The conversation position of a Messages request, as the script sees it. */
export interface Turn {
  /** The request. */
  request: RecordedRequest;
  /** Text of the last user prompt (the last user message holding no tool result). */
  prompt: string;
  /** Assistant turns since that prompt: 0 for the first answer to it. */
  step: number;
  /** The tool results sent since that prompt, as text, in order. */
  toolResults: string[];
  /** Whether the request offers tools (side requests such as titles do not). */
  hasTools: boolean;
}

/** Chooses the reply to one request. */
export type Script = (turn: Turn) => Reply;

/** A running server. */
export interface ModelServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Stops the server. */
  close(): Promise<void>;
}

type Block = Record<string, unknown>;
type Message = { role?: string; content?: unknown };

function blocks(content: unknown): Block[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? content.filter((b) => b && typeof b === "object") : [];
}

function blockText(block: Block): string {
  if (typeof block.text === "string") return block.text;
  if (typeof block.content === "string") return block.content;
  if (Array.isArray(block.content)) return blocks(block.content).map(blockText).join("\n");
  return "";
}

/** Reads the conversation position of a Messages request body. */
export function turnOf(request: RecordedRequest): Turn {
  const messages = (request.body?.messages ?? []) as Message[];
  let last = -1;
  messages.forEach((m, i) => {
    if (m.role === "user" && !blocks(m.content).some((b) => b.type === "tool_result")) last = i;
  });
  const after = messages.slice(last + 1);
  const prompt = last < 0
    ? ""
    : blocks(messages[last]!.content).filter((b) => b.type === "text").map(blockText).join("\n");
  const toolResults = after.flatMap((m) =>
    blocks(m.content).filter((b) => b.type === "tool_result").map(blockText)
  );
  const tools = request.body?.tools;
  return {
    request,
    prompt,
    step: after.filter((m) => m.role === "assistant").length,
    toolResults,
    hasTools: Array.isArray(tools) && tools.length > 0,
  };
}

/**
 * A script that plays `steps` in order for each prompt (step 0 first), ending
 * with the last one repeated, and answers side requests without tools with a
 * short text.
 *
 * @param steps the replies, by step
 */
export function inOrder(steps: Reply[]): Script {
  return (turn) => {
    if (!turn.hasTools) return { text: "ok" };
    return steps[Math.min(turn.step, steps.length - 1)]!;
  };
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

let counter = 0;

function messageEvents(model: string, reply: Reply): string {
  const id = `msg_${++counter}`;
  const usage = { input_tokens: 10, output_tokens: 1 };
  let out = sse("message_start", {
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  });
  let index = 0;
  const text = "text" in reply ? reply.text : undefined;
  if (text !== undefined) {
    out += sse("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "text", text: "" },
    });
    out += sse("content_block_delta", {
      type: "content_block_delta",
      index,
      delta: { type: "text_delta", text },
    });
    out += sse("content_block_stop", { type: "content_block_stop", index });
    index++;
  }
  if ("tool" in reply) {
    out += sse("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: `toolu_${counter}`, name: reply.tool.name, input: {} },
    });
    const json = JSON.stringify(reply.tool.input);
    const half = Math.floor(json.length / 2);
    for (const part of [json.slice(0, half), json.slice(half)]) {
      out += sse("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: part },
      });
    }
    out += sse("content_block_stop", { type: "content_block_stop", index });
  }
  out += sse("message_delta", {
    type: "message_delta",
    delta: { stop_reason: "tool" in reply ? "tool_use" : "end_turn", stop_sequence: null },
    usage: { output_tokens: 5 },
  });
  out += sse("message_stop", { type: "message_stop" });
  return out;
}

function messageJson(model: string, reply: Reply): Record<string, unknown> {
  const content: Block[] = [];
  if ("text" in reply && reply.text !== undefined) content.push({ type: "text", text: reply.text });
  if ("tool" in reply) {
    content.push({
      type: "tool_use",
      id: `toolu_${++counter}`,
      name: reply.tool.name,
      input: reply.tool.input,
    });
  }
  return {
    id: `msg_${++counter}`,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: "tool" in reply ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
  };
}

/**
 * Starts the server on 127.0.0.1 (a free port).
 *
 * @param script chooses each reply
 */
export function startAnthropicServer(script: Script): ModelServer {
  const requests: RecordedRequest[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const raw = await req.text();
      let body: Record<string, unknown> | null = null;
      try {
        body = raw === "" ? null : JSON.parse(raw);
      } catch {
        body = null;
      }
      const path = new URL(req.url).pathname;
      const recorded = { path, body, raw };
      requests.push(recorded);
      if (req.method !== "POST") return Response.json({ data: [] });
      if (path.endsWith("/count_tokens")) return Response.json({ input_tokens: 10 });
      if (!path.endsWith("/messages")) {
        return Response.json({ type: "error", error: { type: "not_found_error", message: path } }, {
          status: 404,
        });
      }
      const model = typeof body?.model === "string" ? body.model : "mock";
      const reply = script(turnOf(recorded));
      // a slow answer leaves the test time to act while the turn runs
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (body?.stream !== true) return Response.json(messageJson(model, reply));
      return new Response(messageEvents(model, reply), {
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
      });
    },
  );
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    close: async () => {
      await server.shutdown();
    },
  };
}
