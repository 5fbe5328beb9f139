/**
 * A scripted OpenAI Responses API server on loopback for the harness
 * conformance suite (Codex with `wire_api = "responses"`). It records every
 * request body (the request log) and answers each `POST …/responses` from a
 * script, streamed as Server-Sent Events: `response.created`, then per output
 * item `response.output_item.added` (+ `response.output_text.delta` for
 * text) and `response.output_item.done`, then `response.completed`.
 *
 * Tool calls are `function_call` items (`exec_command`, arguments as a JSON
 * string) or `custom_tool_call` items (`apply_patch`, the patch as `input`),
 * the shapes Codex offers its tools in.
 *
 * @module
 */
import type { ModelServer, RecordedRequest } from "./anthropic.ts";

/** What the model does in one turn. */
export type ResponsesReply =
  | { text: string }
  | { call: { name: string; arguments: Record<string, unknown> } }
  | { custom: { name: string; input: string } }
  /** Any other output item as it is (e.g. a `tool_search_call`, or a namespaced MCP call). */
  | { raw: Record<string, unknown> };

/** The conversation position of a Responses request. */
export interface ResponsesTurn {
  /** The request. */
  request: RecordedRequest;
  /** Tool calls since the last user message that is a prompt. */
  step: number;
  /** The tool outputs sent since then, as text, in order. */
  toolOutputs: string[];
  /** Whether the request offers tools. */
  hasTools: boolean;
}

/** Chooses the reply to one request. */
export type ResponsesScript = (turn: ResponsesTurn) => ResponsesReply;

type Item = Record<string, unknown>;

const CALLS = new Set([
  "function_call",
  "custom_tool_call",
  "local_shell_call",
  "tool_search_call",
]);
const OUTPUTS = new Set([
  "function_call_output",
  "custom_tool_call_output",
  "tool_search_output",
]);

function outputText(item: Item): string {
  const output = item.output;
  if (typeof output === "string") return output;
  if (Array.isArray(output)) {
    return output.map((p) => (typeof p?.text === "string" ? p.text : "")).join("\n");
  }
  return JSON.stringify(output ?? "");
}

/** Reads the conversation position of a Responses request body. */
export function responsesTurnOf(request: RecordedRequest): ResponsesTurn {
  const input = (Array.isArray(request.body?.input) ? request.body.input : []) as Item[];
  let start = 0;
  input.forEach((item, i) => {
    if (item.type === "message" && item.role === "user") start = i + 1;
  });
  const tail = input.slice(start);
  const tools = request.body?.tools;
  return {
    request,
    step: tail.filter((item) => CALLS.has(String(item.type))).length,
    toolOutputs: tail.filter((item) => OUTPUTS.has(String(item.type))).map(outputText),
    hasTools: Array.isArray(tools) && tools.length > 0,
  };
}

/**
 * A script that plays `steps` in order (by the number of tool calls since the
 * prompt), the last one repeated.
 *
 * @param steps the replies, by step
 */
export function responsesInOrder(steps: ResponsesReply[]): ResponsesScript {
  return (turn) => {
    if (!turn.hasTools) return { text: "ok" };
    return steps[Math.min(turn.step, steps.length - 1)]!;
  };
}

function sse(data: Record<string, unknown>): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

let counter = 0;

function outputItem(reply: ResponsesReply): Item {
  const id = ++counter;
  if ("raw" in reply) return { id: `item_${id}`, call_id: `call_${id}`, ...reply.raw };
  if ("text" in reply) {
    return {
      type: "message",
      id: `msg_${id}`,
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: reply.text, annotations: [] }],
    };
  }
  if ("call" in reply) {
    return {
      type: "function_call",
      id: `fc_${id}`,
      call_id: `call_${id}`,
      name: reply.call.name,
      arguments: JSON.stringify(reply.call.arguments),
      status: "completed",
    };
  }
  return {
    type: "custom_tool_call",
    id: `ctc_${id}`,
    call_id: `call_${id}`,
    name: reply.custom.name,
    input: reply.custom.input,
    status: "completed",
  };
}

function responseEvents(model: string, reply: ResponsesReply): string {
  const id = `resp_${++counter}`;
  const base = { id, object: "response", model, created_at: Math.floor(Date.now() / 1000) };
  let out = sse({ type: "response.created", response: { ...base, status: "in_progress" } });
  const item = outputItem(reply);
  out += sse({ type: "response.output_item.added", output_index: 0, item });
  if ("text" in reply) {
    out += sse({
      type: "response.output_text.delta",
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      delta: reply.text,
    });
  }
  out += sse({ type: "response.output_item.done", output_index: 0, item });
  out += sse({
    type: "response.completed",
    response: {
      ...base,
      status: "completed",
      output: [item],
      usage: {
        input_tokens: 10,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 15,
      },
    },
  });
  return out;
}

/**
 * Starts the server on 127.0.0.1 (a free port); its `url` ends with `/v1`.
 *
 * @param script chooses each reply
 */
export function startResponsesServer(script: ResponsesScript): ModelServer {
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
      if (req.method === "GET" && path.endsWith("/models")) return Response.json({ data: [] });
      if (req.method !== "POST" || !path.endsWith("/responses")) {
        return Response.json({ error: { message: `not found: ${path}` } }, { status: 404 });
      }
      const model = typeof body?.model === "string" ? body.model : "mock";
      const reply = script(responsesTurnOf(recorded));
      return new Response(responseEvents(model, reply), {
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
      });
    },
  );
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}/v1`,
    requests,
    close: async () => {
      await server.shutdown();
    },
  };
}
