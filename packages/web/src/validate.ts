/** @module validate — the create form's checks: the service's own rules (@icaas/contract), run before sending. */
import {
  type BuildRequest,
  containerProblem,
  DESCRIPTION_MAX_LENGTH,
  NAME_MAX_LENGTH,
  objectProblem,
  srcSyntaxProblem,
} from "@icaas/contract";
import type { FormField } from "./api.ts";

export const DESCRIPTION_MAX = DESCRIPTION_MAX_LENGTH;
export const NAME_MAX = NAME_MAX_LENGTH;

export interface BuildForm {
  src: string;
  name: string;
  description: string;
  public: boolean;
  imageContainer: string;
  imageObject: string;
  logContainer: string;
  logObject: string;
  project: string;
}

export const EMPTY_FORM: BuildForm = {
  src: "",
  name: "",
  description: "",
  public: false,
  imageContainer: "",
  imageObject: "",
  logContainer: "",
  logObject: "",
  project: "",
};

export type FormErrors = Partial<Record<FormField, string>>;

/**
 * Only http and https sources, as the service checks them (`srcSyntaxProblem`); the commonest
 * mistakes get their own words first.
 */
export function checkSourceUrl(value: string): string | null {
  const text = value.trim();
  if (text === "") return "Enter the URL of the source image.";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "Enter a full URL, starting with http:// or https://.";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `Only http:// and https:// sources can be downloaded, not ${url.protocol}//.`;
  }
  const problem = srcSyntaxProblem(text);
  return problem ? `The URL ${problem}.` : null;
}

// Empty means "the default"; the service refuses the rest as these do.
function checkContainer(value: string): string | null {
  const problem = containerProblem(value);
  return problem ? `The container name ${problem}.` : null;
}

function checkObject(value: string): string | null {
  const problem = objectProblem(value);
  return problem ? `The object name ${problem}.` : null;
}

/** Every problem with the form, by field; empty when it can be sent. */
export function validateForm(form: BuildForm): FormErrors {
  const errors: FormErrors = {};
  const src = checkSourceUrl(form.src);
  if (src) errors.src = src;
  const name = form.name.trim();
  if (name === "") errors.name = "Give the image a name.";
  else if (name.length > NAME_MAX) errors.name = `At most ${NAME_MAX} characters.`;
  if (form.description.length > DESCRIPTION_MAX) {
    errors.description = `At most ${DESCRIPTION_MAX} characters (now ${form.description.length}).`;
  }
  const checks: [FormField, string | null][] = [
    ["imageContainer", checkContainer(form.imageContainer.trim())],
    ["logContainer", checkContainer(form.logContainer.trim())],
    ["imageObject", checkObject(form.imageObject.trim())],
    ["logObject", checkObject(form.logObject.trim())],
  ];
  for (const [field, message] of checks) if (message) errors[field] = message;
  return errors;
}

/** The POST body: only what the user filled in, so the service's defaults apply to the rest. */
export function toNewBuild(form: BuildForm): BuildRequest {
  const build: BuildRequest = { name: form.name.trim(), src: form.src.trim() };
  const description = form.description.trim();
  if (description) build.description = description;
  if (form.public) build.public = true;
  const project = form.project.trim();
  if (project) build.project = project;
  const image = location(form.imageContainer, form.imageObject);
  if (image) build.image = image;
  const log = location(form.logContainer, form.logObject);
  if (log) build.log = log;
  return build;
}

function location(container: string, object: string): { container?: string; object?: string } | null {
  const c = container.trim();
  const o = object.trim();
  if (!c && !o) return null;
  return { ...(c ? { container: c } : {}), ...(o ? { object: o } : {}) };
}
