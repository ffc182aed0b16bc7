// Pieces every list page shares: a header row, and a delete button that asks first.

export function Head({ cols, actions = false }: { cols: string[]; actions?: boolean }) {
  return (
    <thead>
      <tr>
        {cols.map((c) => <th scope="col" key={c}>{c}</th>)}
        {actions && <th scope="col"><span className="sr">Actions</span></th>}
      </tr>
    </thead>
  );
}

/** A red button that acts only after the person confirms `question`. */
export function DangerButton({ label, what, question, onConfirm }: { label: string; what: string; question: string; onConfirm: () => void }) {
  return (
    <button type="button" className="danger" aria-label={`${label} ${what}`} onClick={() => confirm(question) && onConfirm()}>{label}</button>
  );
}
