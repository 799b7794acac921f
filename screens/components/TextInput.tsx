import { useState } from 'react';
import { Box, Text, useInput } from 'ink';

export interface TextInputProps {
  initial?: string;
  placeholder?: string;
  /** An error message for a bad value (shown, and Enter does not submit), or undefined. */
  validate?: (value: string) => string | undefined;
  onSubmit: (value: string) => void;
  /** Esc only: q is a character here. */
  onCancel?: () => void;
  isActive?: boolean;
}

/** A one-line input: type, Backspace, Enter. */
export function TextInput({ initial = '', placeholder, validate, onSubmit, onCancel, isActive = true }: TextInputProps) {
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<string | undefined>();

  useInput(
    (input, key) => {
      if (key.escape) onCancel?.();
      else if (key.return) {
        const msg = validate?.(value);
        if (msg) setError(msg);
        else onSubmit(value);
      } else if (key.backspace || key.delete) {
        setValue((v) => v.slice(0, -1));
        setError(undefined);
      } else if (key.ctrl && input === 'u') {
        setValue('');
        setError(undefined);
      } else if (input && !key.ctrl && !key.meta && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow && !key.tab) {
        // A paste arrives as one string; keep printable characters only.
        const clean = input.replace(/[\u0000-\u001f\u007f]/g, '');
        if (clean) {
          setValue((v) => v + clean);
          setError(undefined);
        }
      }
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
