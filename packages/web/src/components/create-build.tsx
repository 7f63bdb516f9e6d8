/** @module create-build — the form for a new build; checks it here, then shows the service's errors by field. */
import { type FormEvent, type InputHTMLAttributes, useRef, useState } from "react";
import { ApiError, type FormField as Field, newIdempotencyKey } from "../api.ts";
import { useApp } from "../app-context.ts";
import { navigate } from "../router.ts";
import {
  type BuildForm,
  DESCRIPTION_MAX,
  EMPTY_FORM,
  type FormErrors,
  toNewBuild,
  validateForm,
} from "../validate.ts";
import { FormField, type FormFieldProps } from "./form-field.tsx";
import { Link } from "./link.tsx";
import { Notice } from "./notice.tsx";
import { PageHeading } from "./page-heading.tsx";

const FIELD_ORDER: Field[] = [
  "src",
  "name",
  "description",
  "imageContainer",
  "imageObject",
  "logContainer",
  "logObject",
  "project",
];
const ADVANCED: Field[] = ["imageContainer", "imageObject", "logContainer", "logObject", "project"];

export function CreateBuild() {
  const { api, announce, flash } = useApp();
  const [form, setForm] = useState<BuildForm>(EMPTY_FORM);
  const [errors, setErrors] = useState<FormErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  // One key per filled-in form: a double submit or a retry after a lost answer creates one build.
  const keyRef = useRef(newIdempotencyKey());
  const formRef = useRef<HTMLFormElement>(null);

  const set = <K extends keyof BuildForm>(key: K, value: BuildForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    if (key in errors) setErrors((e) => ({ ...e, [key]: undefined }));
  };

  /** A one-line input bound to `key` of the form, its error shown by its field. */
  const textInput = (
    key: Exclude<Field, "description">,
    field: Omit<FormFieldProps, "children" | "error">,
    input: InputHTMLAttributes<HTMLInputElement> = {},
  ) => (
    <FormField {...field} error={errors[key]}>
      {(a) => (
        <input
          {...a}
          name={key}
          type="text"
          autoComplete="off"
          {...input}
          value={form[key]}
          onChange={(e) => set(key, e.target.value)}
        />
      )}
    </FormField>
  );

  const focusFirstError = (found: FormErrors) => {
    const first = FIELD_ORDER.find((f) => found[f]);
    if (!first) return;
    if (ADVANCED.includes(first)) setAdvancedOpen(true);
    // After the render that opens <details> and shows the message.
    requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus());
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(null);
    const found = validateForm(form);
    setErrors(found);
    if (Object.values(found).some(Boolean)) {
      const count = Object.values(found).filter(Boolean).length;
      announce(`${count} ${count === 1 ? "field needs" : "fields need"} attention.`);
      focusFirstError(found);
      return;
    }
    setBusy(true);
    try {
      const build = await api.createBuild(toNewBuild(form), keyRef.current);
      flash(`Build “${build.name}” accepted. The agent VM is starting.`);
      navigate(`/builds/${encodeURIComponent(String(build.id))}`);
    } catch (e) {
      if (e instanceof ApiError && e.field) {
        const fieldErrors = { [e.field]: e.message };
        setErrors(fieldErrors);
        announce(e.message);
        focusFirstError(fieldErrors);
      } else {
        setFormError(e instanceof Error ? e.message : String(e));
      }
      // Anything but a lost connection means the service has judged this key; a new attempt needs a new one.
      if (!(e instanceof ApiError && e.status === 0)) keyRef.current = newIdempotencyKey();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page page--narrow">
      <p className="breadcrumb">
        <Link to="/builds">← Builds</Link>
      </p>
      <PageHeading title="New build">New image build</PageHeading>
      <p className="muted">
        The service starts an agent VM in your account. It downloads the source, prepares the disk, uploads it
        to Pithos and registers it as an image.
      </p>

      <form ref={formRef} className="card form" onSubmit={submit} noValidate>
        {formError ? (
          <Notice kind="error" title="The build was not created">
            {formError}
          </Notice>
        ) : null}

        {textInput(
          "src",
          {
            label: "Source URL",
            required: true,
            help: "http:// or https:// link to a disk image (raw, qcow2, vmdk, vdi, vhdx) or an archive (zip, tar, ova, gz, xz, zst).",
          },
          {
            type: "url",
            inputMode: "url",
            spellCheck: false,
            placeholder: "https://example.org/images/debian-12.qcow2",
          },
        )}

        {textInput("name", {
          label: "Name",
          required: true,
          help: "The image's name in the cloud's image list.",
        })}

        <FormField
          label="Description"
          error={errors.description}
          aside={
            <span
              className={`field__count${form.description.length > DESCRIPTION_MAX ? " text-error" : ""}`}
              aria-live={form.description.length > DESCRIPTION_MAX - 20 ? "polite" : "off"}
            >
              {form.description.length}/{DESCRIPTION_MAX}
            </span>
          }
        >
          {(a) => (
            <textarea
              {...a}
              name="description"
              rows={3}
              value={form.description}
              onChange={(e) => set("description", e.target.value)}
            />
          )}
        </FormField>

        <div className="field field--check">
          <input
            id="build-public"
            name="public"
            type="checkbox"
            checked={form.public}
            onChange={(e) => set("public", e.target.checked)}
            aria-describedby="build-public-help"
          />
          <label htmlFor="build-public">Public image</label>
          <p id="build-public-help" className="field__help">
            Every user of the cloud can see and use a public image.
          </p>
        </div>

        <details
          className="advanced"
          open={advancedOpen}
          onToggle={(e) => setAdvancedOpen(e.currentTarget.open)}
        >
          <summary>Advanced: storage and project</summary>
          <div className="advanced__grid">
            {textInput(
              "imageContainer",
              { label: "Image container", help: "Default: images" },
              { placeholder: "images" },
            )}
            {textInput("imageObject", { label: "Image object name", help: "Default: derived from the name" })}
            {textInput(
              "logContainer",
              { label: "Log container", help: "Default: icaas" },
              { placeholder: "icaas" },
            )}
            {textInput("logObject", { label: "Log object name", help: "Default: derived from the name" })}
            {textInput(
              "project",
              {
                label: "Project",
                help: "The project that pays for the agent VM. Default: your own (system) project.",
              },
              { spellCheck: false },
            )}
          </div>
        </details>

        <div className="form__actions">
          <Link to="/builds" className="button">
            Cancel
          </Link>
          <button type="submit" className="button button--primary" disabled={busy}>
            {busy ? "Creating…" : "Create build"}
          </button>
        </div>
      </form>
    </section>
  );
}
