// The channel types alerts can be sent through. A new type: one file beside these (its schema,
// checks, secrets and factory; ../channel.ts), listed here.
import type { ChannelType } from "../channel.js";
import { emailChannel } from "./email.js";
import { smsChannel } from "./sms.js";
import { webhookChannel } from "./webhook.js";

export const CHANNEL_TYPES: readonly ChannelType[] = [emailChannel, webhookChannel, smsChannel];

export function channelType(type: string): ChannelType | undefined {
  return CHANNEL_TYPES.find((t) => t.type === type);
}
