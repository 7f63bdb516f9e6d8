/** @module @icaas/synnefo — typed clients for Astakos, Cyclades, Pithos and Plankton. */
export {
  type FileHashmap,
  type FileIdentity,
  type HashFileOptions,
  hashBlock,
  hashFile,
  strippedLength,
} from "./block-hasher.ts";
export {
  faultNameFor,
  parseFault,
  SynnefoError,
  type SynnefoErrorInit,
  type SynnefoService,
} from "./errors.ts";
export { type DataExtent, type ExtentSource, type FileExtents, findDataExtents } from "./file-holes.ts";
export {
  type UploadFileOptions,
  type UploadFileResult,
  type UploadPhase,
  type UploadTarget,
  uploadFileHashmap,
} from "./hashmap-upload.ts";
export {
  HttpClient,
  type HttpClientOptions,
  type HttpResponse,
  type Method,
  type RequestOptions,
  type StreamResponse,
} from "./http.ts";
export { DEFAULT_BLOCK_HASH, DEFAULT_BLOCK_SIZE, emptyBlockHash, merkleHash } from "./merkle.ts";
export {
  type ContainerInfo,
  type ListOptions,
  type ObjectHashmap,
  type ObjectInfo,
  PithosClient,
  type PithosClientOptions,
} from "./pithos.ts";
export { fileChanged, hashMismatch, uploadIncomplete } from "./pithos-errors.ts";
export { canonicalMetaKey, decodeHeaderValue, encodeHeaderValue } from "./pithos-meta.ts";
