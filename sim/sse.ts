// The bytes of an OpenAI-compatible streamed chat completion (server-sent events), as vLLM sends
// them (vllm/entrypoints/openai/chat_completion/serving.py; ../notes S5, S10): one
// `chat.completion.chunk` per event, the first with the role, then a chunk with finish_reason,
// with stream_options.include_usage a last chunk with `choices: []` and `usage`, and `data: [DONE]`.
// An error after the headers is an SSE event carrying an error object inside the 200 (vLLM's
// streaming error response; TGI does the same with its own fields: ../notes S7).
// Used by the simulator's streams (through the real filter) and by the demo's stand-in servers.

/** The word every simulated token is (its bytes do not matter to anyone measuring). */
const TOKEN = " tok";

/** The `data:` line of a content event carrying `tokens` tokens; the first event also names the role. */
export function contentEvent(id: string, model: string, tokens: number, first: boolean, text = TOKEN.repeat(tokens)): string {
  const delta = first ? { role: "assistant", content: text } : { content: text };
  return `data: ${JSON.stringify({ id, object: "chat.completion.chunk", model, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
}

/** The events after the last token: finish_reason, usage (when asked for) and `data: [DONE]`. */
export function finalEvents(id: string, model: string, completionTokens: number, usage: boolean, promptTokens = 12): string {
  const finish = `data: ${JSON.stringify({ id, object: "chat.completion.chunk", model, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`;
  const usageEvent = usage
    ? `data: ${JSON.stringify({
      id, object: "chat.completion.chunk", model, choices: [],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    })}\n\n`
    : "";
  return `${finish}${usageEvent}data: [DONE]\n\n`;
}

/** An error event inside a 200 stream (no `[DONE]` follows). */
export function errorEvent(message: string, code = 500): string {
  return `data: ${JSON.stringify({ error: { message, type: "InternalServerError", param: null, code } })}\n\n`;
}

/** Encoded SSE chunks for the simulator: content events cached by token count (their bytes repeat). */
export class SseEncoder {
  private readonly encoder = new TextEncoder();
  private readonly firstCache = new Map<number, Uint8Array>();
  private readonly cache = new Map<number, Uint8Array>();
  private errorBytes: Uint8Array | null = null;

  constructor(private readonly id = "chatcmpl-sim", private readonly model = "sim-model") {}

  /** Event j's bytes (`tokens` tokens), with the final events appended when it is the last. */
  content(tokens: number, first: boolean, finalTokens: number | null, usage: boolean): Uint8Array {
    if (finalTokens !== null) {
      return this.encoder.encode(contentEvent(this.id, this.model, tokens, first) + finalEvents(this.id, this.model, finalTokens, usage));
    }
    const cache = first ? this.firstCache : this.cache;
    let bytes = cache.get(tokens);
    if (bytes === undefined) {
      bytes = this.encoder.encode(contentEvent(this.id, this.model, tokens, first));
      cache.set(tokens, bytes);
    }
    return bytes;
  }

  /** The error event that ends a cut stream. */
  error(): Uint8Array {
    this.errorBytes ??= this.encoder.encode(errorEvent("the engine failed while generating"));
    return this.errorBytes;
  }
}
