import { useReducer, useRef } from 'react';
import { Box, Text, useInput } from 'ink';

export interface TextInputProps {
  initial?: string;
  placeholder?: string;
  /** An error message for a bad value (shown, and Enter does not submit), or undefined. */
  validate?: (value: string) => string | undefined;
  onSubmit: (value: string) => void;
  /** Esc only: q is a character here. */
  onCancel?: () => void;
  /** ← goes back (there is no cursor to move). */
  onBack?: () => void;
  isActive?: boolean;
}

/** A one-line input: type, Backspace, Enter. */
export function TextInput({ initial = '', placeholder, validate, onSubmit, onCancel, onBack, isActive = true }: TextInputProps) {
  // The value lives in a ref so a burst of keys ("65532" then Enter in one read) sees every character.
  const st = useRef<{ value: string; error?: string }>({ value: initial });
  const [, rerender] = useReducer((x: number) => x + 1, 0);
  const { value, error } = st.current;

  useInput(
    (input, key) => {
      const s = st.current;
      if (key.escape) return onCancel?.();
      if (key.leftArrow) return onBack?.();
      if (key.return) {
        s.error = validate?.(s.value);
        if (!s.error) return onSubmit(s.value);
      } else if (key.backspace || key.delete) {
        s.value = s.value.slice(0, -1);
        s.error = undefined;
      } else if (key.ctrl && input === 'u') {
        s.value = '';
        s.error = undefined;
      } else if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow && !key.tab) {
        // A paste (or keys typed faster than a frame) arrives as one string: keep its printable characters,
        // and a line end in it is Enter.
        const clean = input.replace(/[\u0000-\u001f\u007f]/g, '');
        s.value += clean;
        s.error = undefined;
        if (/[\r\n]/.test(input)) {
          s.error = validate?.(s.value);
          if (!s.error) return onSubmit(s.value);
        } else if (!clean) return;
      } else return;
      rerender();
    },
    { isActive },
  );

  return (
    <Box flexDirection="column">
      <Text>
        <Text color="cyan">{'> '}</Text>
        {value ? <Text>{value}</Text> : placeholder ? <Text dimColor>{placeholder}</Text> : null}
        <Text inverse> </Text>
      </Text>
      {error ? <Text color="red">{`✗ ${error}`}</Text> : null}
    </Box>
  );
}
