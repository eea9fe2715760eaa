{{/* Chart name, truncated to 63 characters. */}}
{{- define "driftlock.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name prefix of every object: <release>-driftlock unless the release name holds it. */}}
{{- define "driftlock.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "driftlock.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "driftlock.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "ingest"). */}}
{{- define "driftlock.selectorLabels" -}}
app.kubernetes.io/name: {{ include "driftlock.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of one component's objects. */}}
{{- define "driftlock.componentLabels" -}}
{{ include "driftlock.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "driftlock.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "driftlock.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "driftlock.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Whether the detector scales with KEDA. */}}
{{- define "driftlock.keda" -}}
{{- $a := .Values.detector.autoscaling -}}
{{- if and $a.enabled (or (eq $a.mode "keda") (and (eq $a.mode "auto") (.Capabilities.APIVersions.Has "keda.sh/v1alpha1"))) -}}
true
{{- end -}}
{{- end -}}

{{/* Checks that cannot be said in values.schema.json. */}}
{{- define "driftlock.validate" -}}
{{- $p := int .Values.kafka.topics.events.partitions -}}
{{- if gt (int .Values.detector.replicas) $p -}}
{{- fail (printf "detector.replicas (%d) must not exceed kafka.topics.events.partitions (%d): a replica beyond the partition count holds no partition" (int .Values.detector.replicas) $p) -}}
{{- end -}}
{{- if and .Values.detector.autoscaling.enabled (gt (int .Values.detector.autoscaling.maxReplicas) $p) -}}
{{- fail (printf "detector.autoscaling.maxReplicas (%d) must not exceed kafka.topics.events.partitions (%d)" (int .Values.detector.autoscaling.maxReplicas) $p) -}}
{{- end -}}
{{- if and .Values.detector.autoscaling.enabled (gt (int .Values.detector.autoscaling.minReplicas) (int .Values.detector.autoscaling.maxReplicas)) -}}
{{- fail "detector.autoscaling.minReplicas must not exceed detector.autoscaling.maxReplicas" -}}
{{- end -}}
{{- if and .Values.ingest.autoscaling.enabled (gt (int .Values.ingest.autoscaling.minReplicas) (int .Values.ingest.autoscaling.maxReplicas)) -}}
{{- fail "ingest.autoscaling.minReplicas must not exceed ingest.autoscaling.maxReplicas" -}}
{{- end -}}
{{- if and .Values.kafka.sasl.mechanism (not .Values.kafka.sasl.existingSecret) -}}
{{- fail "kafka.sasl.existingSecret must name the Secret holding the SASL password when kafka.sasl.mechanism is set" -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled .Values.metrics.podMonitor.enabled -}}
{{- fail "enable metrics.serviceMonitor or metrics.podMonitor, not both: each pod would be scraped twice" -}}
{{- end -}}
{{- end -}}

{{/* Environment of every DriftLock container: secrets only. */}}
{{- define "driftlock.secretEnv" -}}
{{- if .Values.kafka.sasl.mechanism }}
- name: DRIFTLOCK_KAFKA_SASL_USERNAME
  value: {{ .Values.kafka.sasl.username | quote }}
- name: DRIFTLOCK_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret }}
      key: {{ .Values.kafka.sasl.passwordKey }}
{{- end }}
{{- end -}}

{{/* Volume mounts of every DriftLock container. */}}
{{- define "driftlock.volumeMounts" -}}
- name: config
  mountPath: /etc/driftlock
  readOnly: true
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /etc/driftlock/tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* Volumes of every DriftLock pod. */}}
{{- define "driftlock.volumes" -}}
- name: config
  configMap:
    name: {{ include "driftlock.fullname" . }}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.existingSecret }}
{{- end }}
{{- end -}}

{{/* Volumes of the ingest pod only: the OTLP tokens and certificate Secrets. */}}
{{- define "driftlock.ingestVolumes" -}}
{{- if .Values.ingest.auth.existingSecret }}
- name: otlp-auth
  secret:
    secretName: {{ .Values.ingest.auth.existingSecret }}
{{- end }}
{{- if .Values.ingest.tls.existingSecret }}
- name: otlp-tls
  secret:
    secretName: {{ .Values.ingest.tls.existingSecret }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by the DriftLock pods: (dict "ctx" $ "c" .Values.ingest "ingest" true). */}}
{{- define "driftlock.podSpec" -}}
serviceAccountName: {{ include "driftlock.serviceAccountName" .ctx }}
automountServiceAccountToken: {{ .ctx.Values.serviceAccount.automountToken }}
terminationGracePeriodSeconds: {{ .c.terminationGracePeriodSeconds }}
securityContext:
  {{- toYaml .ctx.Values.podSecurityContext | nindent 2 }}
{{- with .ctx.Values.image.pullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  {{- include "driftlock.volumes" .ctx | nindent 2 }}
  {{- if .ingest }}
  {{- include "driftlock.ingestVolumes" .ctx | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Probes on the admin port named by .port. */}}
{{- define "driftlock.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .port }}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}
