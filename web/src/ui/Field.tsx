// A labelled input with its help and its error beside it: every input in the console goes through here.
import { useId, type ReactNode } from 'react';

export function Field(props: { label: string; help?: string; error?: string; children: (id: string, describedBy?: string) => ReactNode }) {
  const id = useId();
  const helpId = props.help ? `${id}-help` : undefined;
  const errId = props.error ? `${id}-err` : undefined;
  const describedBy = [helpId, errId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={props.error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{props.label}</label>
      {props.children(id, describedBy)}
      {props.help && <small id={helpId} className="help">{props.help}</small>}
      {props.error && <small id={errId} className="error" role="alert">{props.error}</small>}
    </div>
  );
}

export function ErrorLine({ error }: { error: unknown }) {
  if (!error) return null;
  return <p className="error" role="alert">{error instanceof Error ? error.message : String(error)}</p>;
}
