/** @module @icaas/synnefo — typed clients for Astakos, Cyclades, Pithos and Plankton. */

export { AstakosClient, type AstakosClientOptions, type AstakosUser } from "./astakos.ts";
export {
  type FileHashmap,
  type FileIdentity,
  type HashFileOptions,
  hashBlock,
  hashFile,
  strippedLength,
} from "./block-hasher.ts";
export { BlockPresender, type PresendOptions, type PresendStats } from "./block-presender.ts";
export { type CatalogEntry, ServiceCatalog, type ServiceType, withVersion } from "./catalog.ts";
export { type Connection, type ConnectOptions, connect } from "./connect.ts";
export {
  type ComputeImage,
  type CreateServerRequest,
  CycladesClient,
  type CycladesClientOptions,
  type Flavor,
  isServerDeletedError,
  type Server,
} from "./cyclades.ts";
export {
  faultNameFor,
  parseFault,
  SynnefoError,
  type SynnefoErrorInit,
  type SynnefoService,
} from "./errors.ts";
export { type DataExtent, type ExtentSource, type FileExtents, findDataExtents } from "./file-holes.ts";
export { type UploadFileResult, uploadFileHashmap } from "./hashmap-upload.ts";
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
  checkPersonality,
  MAX_PERSONALITY,
  MAX_PERSONALITY_SIZE,
  type PersonalityFile,
  personalityFile,
} from "./personality.ts";
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
export { PlanktonClient, type PlanktonClientOptions, type RegisterImageRequest } from "./plankton.ts";
export {
  type ImageInfo,
  imageFromHeaders,
  MAX_PROPERTY_VALUE_LENGTH,
  normalizePropertyKey,
  parseLocation,
  pithosLocation,
  propertyHeader,
} from "./plankton-headers.ts";
export type { UploadFileOptions, UploadPhase, UploadTarget } from "./upload-options.ts";
