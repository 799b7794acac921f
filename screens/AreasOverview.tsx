import { Box, Text, useInput } from 'ink';
import type { Severity } from '../src/areas/types.js';
import { KeyHelp, QUIT_HINT } from './components/KeyHelp.js';
import { SEVERITY_ORDER, severityColor } from './format.js';

export interface AreaOverview {
  id: string;
  title: string;
  summary: string;
  counts: Record<Severity, number>;
  fixable: number;
}

export interface AreasOverviewProps {
  areas: AreaOverview[];
  onContinue: () => void;
  onQuit: () => void;
}

export function countBySeverity(findings: Array<{ severity: Severity }>): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

export function AreasOverview({ areas, onContinue, onQuit }: AreasOverviewProps) {
  useInput((input, key) => {
    if (key.return) onContinue();
    else if (input === 'q' || key.escape) onQuit();
  });
  const total = areas.reduce((n, a) => n + SEVERITY_ORDER.reduce((m, s) => m + a.counts[s], 0), 0);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>{`Findings: ${total}`}</Text>
      {areas.map((a) => (
        <Box key={a.id} flexDirection="column" marginTop={1}>
          <Text>
            <Text bold>{a.title}</Text>
            <Text dimColor>{` (${a.id})`}</Text>
            {'  '}
            {SEVERITY_ORDER.map((s) => (
              <Text key={s} color={a.counts[s] ? severityColor[s] : 'gray'} bold={s === 'critical' && a.counts[s] > 0}>
                {`${s} ${a.counts[s]}  `}
              </Text>
            ))}
            <Text dimColor>{`fixable ${a.fixable}`}</Text>
          </Text>
          <Text dimColor wrap="wrap">
            {a.summary}
          </Text>
        </Box>
      ))}
      <KeyHelp keys={[['enter', 'continue to the questions'], QUIT_HINT]} />
    </Box>
  );
}
