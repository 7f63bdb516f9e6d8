/** @module form-field — a labelled input with help text and an error tied to it for screen readers. */
import { type ReactNode, useId } from "react";

export interface FormFieldProps {
  label: string;
  help?: ReactNode;
  error?: string | undefined;
  /** Renders the control, given the ids and ARIA attributes it must carry. */
  children: (control: {
    id: string;
    "aria-describedby": string | undefined;
    "aria-invalid": true | undefined;
    "aria-required": true | undefined;
  }) => ReactNode;
  required?: boolean;
  /** Extra text after the label, e.g. a character count. */
  aside?: ReactNode;
}

export function FormField({ label, help, error, children, required, aside }: FormFieldProps) {
  const id = useId();
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const describedBy = [help ? helpId : null, error ? errorId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field${error ? " field--invalid" : ""}`}>
      <div className="field__label-row">
        <label htmlFor={id}>
          {label}
          {required ? <span className="field__required"> (required)</span> : null}
        </label>
        {aside}
      </div>
      {children({
        id,
        "aria-describedby": describedBy,
        "aria-invalid": error ? true : undefined,
        "aria-required": required ? true : undefined,
      })}
      {help ? (
        <p id={helpId} className="field__help">
          {help}
        </p>
      ) : null}
      {/* Kept in the layout even when empty, so an error appearing does not push the form down. */}
      <p id={errorId} className="field__error">
        {error}
      </p>
    </div>
  );
}
