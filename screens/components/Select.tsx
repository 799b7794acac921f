import SelectInput from 'ink-select-input';
import { Text } from 'ink';

export interface SelectOption {
  value: string;
  label: string;
  hint?: string;
}

const SEP = '\u0000';

function Item({ isSelected, label }: { isSelected?: boolean; label: string }) {
  const [text, hint] = label.split(SEP);
  return (
    <Text wrap="truncate-end">
      <Text color={isSelected ? 'cyan' : undefined} bold={isSelected}>
        {text}
      </Text>
      {hint ? <Text dimColor>{`  ${hint}`}</Text> : null}
    </Text>
  );
}

/** ink-select-input with dimmed hints and a preselected value. */
export function Select({
  options,
  initial,
  onSelect,
  limit,
}: {
  options: SelectOption[];
  initial?: string;
  onSelect: (value: string) => void;
  limit?: number;
}) {
  const items = options.map((o) => ({ key: o.value, value: o.value, label: o.hint ? `${o.label}${SEP}${o.hint}` : o.label }));
  const initialIndex = Math.max(
    0,
    options.findIndex((o) => o.value === initial),
  );
  return <SelectInput items={items} initialIndex={initialIndex} itemComponent={Item} limit={limit} onSelect={(item) => onSelect(item.value)} />;
}
