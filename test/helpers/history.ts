/**
 * Builds Temporal workflow histories (proto JSON, as `temporal workflow show --output json`
 * writes them) for replay tests: no server can run here to record real ones. Each step is one
 * workflow task followed by the activity or child workflow it scheduled.
 */
type Step =
  | { activity: string; input: unknown; result: unknown }
  | { child: string; workflowId: string; input: unknown; result: unknown };

const TASK_QUEUE = { name: 'osusume', kind: 'TASK_QUEUE_KIND_NORMAL' };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const payloads = (...values: unknown[]) => ({
  payloads: values.map((v) => ({
    metadata: { encoding: b64('json/plain') },
    data: b64(JSON.stringify(v)),
  })),
});

export function buildHistory(
  workflowType: string,
  input: unknown,
  steps: Step[],
  result: unknown,
): object {
  const events: Record<string, unknown>[] = [];
  let time = Date.parse('2026-11-22T18:00:00Z');
  const add = (eventType: string, attributes: Record<string, unknown>): number => {
    const eventId = events.length + 1;
    const key =
      eventType
        .replace(/^EVENT_TYPE_/, '')
        .toLowerCase()
        .replace(/_(\w)/g, (_, c: string) => c.toUpperCase()) + 'EventAttributes';
    time += 1000;
    events.push({
      eventId: String(eventId),
      eventTime: new Date(time).toISOString(),
      eventType,
      taskId: String(1000 + eventId),
      [key]: attributes,
    });
    return eventId;
  };
  const workflowTask = (): number => {
    const scheduled = add('EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', {
      taskQueue: TASK_QUEUE,
      startToCloseTimeout: '10s',
      attempt: 1,
    });
    const started = add('EVENT_TYPE_WORKFLOW_TASK_STARTED', {
      scheduledEventId: String(scheduled),
      identity: 'replay',
      requestId: `r${scheduled}`,
    });
    return add('EVENT_TYPE_WORKFLOW_TASK_COMPLETED', {
      scheduledEventId: String(scheduled),
      startedEventId: String(started),
      identity: 'replay',
    });
  };

  add('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', {
    workflowType: { name: workflowType },
    taskQueue: TASK_QUEUE,
    input: payloads(input),
    workflowExecutionTimeout: '0s',
    workflowRunTimeout: '0s',
    workflowTaskTimeout: '10s',
    originalExecutionRunId: 'run-1',
    firstExecutionRunId: 'run-1',
    attempt: 1,
    identity: 'replay',
    header: {},
  });
  let seq = 0;
  for (const step of steps) {
    const completed = workflowTask();
    seq += 1;
    if ('activity' in step) {
      const scheduled = add('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', {
        activityId: String(seq),
        activityType: { name: step.activity },
        taskQueue: TASK_QUEUE,
        header: {},
        input: payloads(step.input),
        scheduleToCloseTimeout: '0s',
        scheduleToStartTimeout: '0s',
        startToCloseTimeout: '900s',
        heartbeatTimeout: '0s',
        workflowTaskCompletedEventId: String(completed),
      });
      const started = add('EVENT_TYPE_ACTIVITY_TASK_STARTED', {
        scheduledEventId: String(scheduled),
        identity: 'replay',
        attempt: 1,
      });
      add('EVENT_TYPE_ACTIVITY_TASK_COMPLETED', {
        result: payloads(step.result),
        scheduledEventId: String(scheduled),
        startedEventId: String(started),
        identity: 'replay',
      });
    } else {
      const execution = { workflowId: step.workflowId, runId: `child-${seq}` };
      const initiated = add('EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED', {
        namespace: 'default',
        workflowId: step.workflowId,
        workflowType: { name: step.child },
        taskQueue: TASK_QUEUE,
        input: payloads(step.input),
        workflowTaskCompletedEventId: String(completed),
        header: {},
      });
      const started = add('EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED', {
        namespace: 'default',
        initiatedEventId: String(initiated),
        workflowExecution: execution,
        workflowType: { name: step.child },
        header: {},
      });
      add('EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED', {
        result: payloads(step.result),
        namespace: 'default',
        workflowExecution: execution,
        workflowType: { name: step.child },
        initiatedEventId: String(initiated),
        startedEventId: String(started),
      });
    }
  }
  const completed = workflowTask();
  add('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', {
    result: payloads(result),
    workflowTaskCompletedEventId: String(completed),
  });
  return { events };
}
