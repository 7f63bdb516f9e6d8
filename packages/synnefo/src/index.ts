/** @module @icaas/synnefo — typed clients for Astakos, Cyclades, Pithos and Plankton. */
export {
  faultNameFor,
  parseFault,
  SynnefoError,
  type SynnefoErrorInit,
  type SynnefoService,
} from "./errors.ts";
export {
  HttpClient,
  type HttpClientOptions,
  type HttpResponse,
  type Method,
  type RequestOptions,
  type StreamResponse,
} from "./http.ts";
