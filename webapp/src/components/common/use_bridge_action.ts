import {useState} from 'react';
import {asBridgeError} from '../../client';
import {useMounted} from './use_mounted';

/**
 * A button that asks the bridge for something and says how it went next to it: busy while the request
 * runs, then one line, the answer's or why it could not be asked. `what` names the request in that line
 * ("the test", "the rehearsal").
 */
export function useBridgeAction<T>(what: string, describe: (answer: T) => string, onDone: () => void) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const mounted = useMounted();

  const run = (request: () => Promise<T>) => {
    setBusy(true);
    setNote(null);
    request().then(
      (answer) => {
        if (!mounted.current) return;
        setBusy(false);
        setNote(describe(answer));
        onDone();
      },
      (err: unknown) => {
        if (!mounted.current) return;
        setBusy(false);
        setNote(`Could not ask for ${what}: ${asBridgeError(err).message}`);
      },
    );
  };
  return {busy, note, run};
}
