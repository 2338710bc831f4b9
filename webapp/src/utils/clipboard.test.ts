import {copyText} from './clipboard';

const original = Object.getOwnPropertyDescriptor(window.navigator, 'clipboard');

function setClipboard(value: unknown): void {
  Object.defineProperty(window.navigator, 'clipboard', {value, configurable: true});
}

afterEach(() => {
  if (original) Object.defineProperty(window.navigator, 'clipboard', original);
  else delete (window.navigator as unknown as Record<string, unknown>).clipboard;
  delete (document as unknown as Record<string, unknown>).execCommand;
});

test('uses the Clipboard API when there is one', async () => {
  const writeText = jest.fn().mockResolvedValue(undefined);
  setClipboard({writeText});
  await expect(copyText('hosts:\n- a.example.com')).resolves.toBe(true);
  expect(writeText).toHaveBeenCalledWith('hosts:\n- a.example.com');
});

test('falls back to a selected textarea and execCommand when the API refuses', async () => {
  setClipboard({writeText: jest.fn().mockRejectedValue(new Error('not allowed'))});
  let copied = '';
  (document as unknown as {execCommand: (c: string) => boolean}).execCommand = (command: string) => {
    const area = document.querySelector('textarea');
    copied = command === 'copy' && area ? area.value : '';
    return true;
  };
  await expect(copyText('yaml text')).resolves.toBe(true);
  expect(copied).toBe('yaml text');
  expect(document.querySelector('textarea')).toBeNull();
});

test('says so when nothing can copy', async () => {
  setClipboard(undefined);
  await expect(copyText('x')).resolves.toBe(false);
});
