/**
 * What the chat, mask and model services need from the inference host. The types are the inference protocol's
 * (main/inference/protocol.ts): this file only names them for the services above it.
 */
export type { AskRequest, HostAskResult as AskResult, InferenceEvent, InferencePort, MaskOut, Rect } from '../inference/protocol.js';
export type { PackInfo } from '../contract/index.js';

