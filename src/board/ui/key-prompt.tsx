import { useState } from 'preact/hooks';

/** Asked once per browser session; the key goes to sessionStorage only (api.ts). */
export function KeyPrompt({ message, onKey }: { message: string | null; onKey: (key: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <form
      class="key-prompt"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) onKey(value.trim());
      }}
    >
      <h2>This gateway needs an API key</h2>
      {message && <p class="error" role="alert" id="auth-error">{message}</p>}
      <label>
        API key <input type="password" name="apiKey" autocomplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      </label>
      <button type="submit">Show the board</button>
      <p><small>Kept for this browser tab only (sessionStorage) and sent to this gateway on every request and WebSocket.</small></p>
    </form>
  );
}
