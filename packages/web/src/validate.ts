/** @module validate — the create form's checks, the same ones the service makes, run before sending. */
import type { FormField, NewBuild } from "./api.ts";

export const DESCRIPTION_MAX = 256;
export const NAME_MAX = 256;

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

/** Only http and https sources: the agent downloads nothing else. */
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
  if (url.hostname === "") return "The URL has no host name.";
  return null;
}

// Pithos names cannot hold a slash in a container; objects may, but not start with one.
function checkContainer(value: string): string | null {
  if (value.includes("/")) return "A container name cannot contain “/”.";
  return value.length > 256 ? "At most 256 characters." : null;
}

function checkObject(value: string): string | null {
  if (value.startsWith("/")) return "An object name cannot start with “/”.";
  return value.length > 1024 ? "At most 1024 characters." : null;
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
export function toNewBuild(form: BuildForm): NewBuild {
  const build: NewBuild = { name: form.name.trim(), src: form.src.trim() };
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
