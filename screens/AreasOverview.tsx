import { Box, Text, useInput } from 'ink';
import type { AreaId } from '../src/areas/types.js';
import type { AreaOverview } from '../src/pipeline.js';
import { KeyHelp, QUIT_HINT } from './components/KeyHelp.js';
import { MultiSelect } from './components/MultiSelect.js';
import { SEVERITY_ORDER, severityColor } from './format.js';

export type { AreaOverview };
export { countBySeverity } from '../src/areas/types.js';

export interface AreasOverviewProps {
  areas: AreaOverview[];
  /** Preselected: the areas with something to fix. */
  defaults: AreaId[];
  onPick: (ids: AreaId[]) => void;
  onQuit: () => void;
}

function Counts({ a }: { a: AreaOverview }) {
  return (
    <Text>
      {SEVERITY_ORDER.map((s) => (
        <Text key={s} color={a.counts[s] ? severityColor[s] : 'gray'} bold={s === 'critical' && a.counts[s] > 0}>
          {`${s} ${a.counts[s]}  `}
        </Text>
      ))}
      <Text dimColor>{`fixable ${a.fixable}`}</Text>
    </Text>
  );
}

/** Every area with its finding counts; the user picks the areas to walk, in the pipeline's order. */
export function AreasOverview({ areas, defaults, onPick, onQuit }: AreasOverviewProps) {
  useInput((input, key) => {
    if (key.escape) onQuit();
  });
  const total = areas.reduce((n, a) => n + a.total, 0);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>{`Findings: ${total} in ${areas.length} area(s). Which areas should the session walk?`}</Text>
      <MultiSelect
        choices={areas.map((a) => ({
          value: a.id,
          label: `${a.title} (${a.id})`,
          hint: a.notApplicable ? `cannot change here: ${a.notApplicable}` : `${a.total} finding(s), ${a.fixable} fixable`,
        }))}
        initial={defaults}
        onSubmit={(ids) => onPick(ids as AreaId[])}
        onQuit={onQuit}
      />
      <Box flexDirection="column" marginTop={1}>
        {areas.map((a) => (
          <Text key={a.id} wrap="truncate-end">
            <Text bold>{a.id.padEnd(10)}</Text> <Counts a={a} />
          </Text>
        ))}
      </Box>
      <KeyHelp keys={[['↑/↓', 'move'], ['space', 'toggle'], ['enter', 'walk the chosen areas'], QUIT_HINT]} />
    </Box>
  );
}
