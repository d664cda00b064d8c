/**
 * A scripted stand-in for the Anthropic Messages API, so real Claude Code can run without an account:
 * each turn of the main conversation answers with the next scripted tool call (streamed as SSE, as
 * the API does), and with a short text when the script is done. Side requests (titles, token counts,
 * quota checks) get a short text and do not advance the script.
 *
 * @module
 */

/** One scripted assistant turn. */
export type ScriptStep = { tool: string; input: Record<string, unknown> } | { text: string };

/** A running scripted model. */
export interface ScriptedModel {
  /** Base URL for `ANTHROPIC_BASE_URL`. */
  url: string;
  /** Every request body received, in order. */
  requests: unknown[];
  close(): Promise<void>;
}

type Block = { type: "tool_use"; id: string; name: string; input: Record<string, unknown> } | {
  type: "text";
  text: string;
};

function sse(blocks: Block[], stopReason: string): string {
  const events: [string, unknown][] = [[
    "message_start",
    {
      type: "message_start",
      message: {
        id: `msg_${crypto.randomUUID().slice(0, 8)}`,
        type: "message",
        role: "assistant",
        model: "claude-scripted",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 1 },
      },
    },
  ]];
  blocks.forEach((block, index) => {
    if (block.type === "tool_use") {
      events.push(["content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      }]);
      events.push(["content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
      }]);
    } else {
      events.push(["content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "" },
      }]);
      events.push(["content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "text_delta", text: block.text },
      }]);
    }
    events.push(["content_block_stop", { type: "content_block_stop", index }]);
  });
  events.push(["message_delta", {
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: 5 },
  }]);
  events.push(["message_stop", { type: "message_stop" }]);
  return events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join("");
}

function message(blocks: Block[], stopReason: string) {
  return {
    id: `msg_${crypto.randomUUID().slice(0, 8)}`,
    type: "message",
    role: "assistant",
    model: "claude-scripted",
    content: blocks,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
  };
}

/**
 * Starts the scripted model on 127.0.0.1.
 *
 * @example
 * ```ts
 * import { startScriptedModel } from "./scripted_model.ts";
 * const model = await startScriptedModel([{ tool: "Write", input: { file_path: "/tmp/p/a.py", content: "x = 1\n" } }]);
 * // run claude with ANTHROPIC_BASE_URL=model.url ...
 * await model.close();
 * ```
 */
export function startScriptedModel(steps: readonly ScriptStep[]): Promise<ScriptedModel> {
  const requests: unknown[] = [];
  let toolIds = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.method === "POST" ? await req.json().catch(() => ({})) : {};
    requests.push({ path: url.pathname, body });
    if (url.pathname.endsWith("/count_tokens")) return Response.json({ input_tokens: 10 });
    if (!url.pathname.endsWith("/v1/messages")) return Response.json({});
    const b = body as {
      tools?: { name?: string }[];
      messages?: { role: string }[];
      stream?: boolean;
    };
    const isMain = (b.tools ?? []).some((t) => t.name === "Write");
    let blocks: Block[];
    let stop = "end_turn";
    if (!isMain) {
      blocks = [{ type: "text", text: "Scripted session" }];
    } else {
      // Each earlier assistant turn in the conversation was one step of the script.
      const done = (b.messages ?? []).filter((m) => m.role === "assistant").length;
      const step = steps[done];
      if (step && "tool" in step) {
        blocks = [{
          type: "tool_use",
          id: `toolu_e2e_${String(++toolIds).padStart(2, "0")}`,
          name: step.tool,
          input: step.input,
        }];
        stop = "tool_use";
      } else {
        blocks = [{ type: "text", text: step && "text" in step ? step.text : "Done." }];
      }
    }
    if (b.stream) {
      return new Response(sse(blocks, stop), {
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
      });
    }
    return Response.json(message(blocks, stop));
  });
  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  });
}
