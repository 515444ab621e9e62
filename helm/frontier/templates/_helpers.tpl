{{/* Names and labels shared by every template. */}}

{{- define "frontier.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "frontier.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "frontier.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "frontier.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "frontier.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "frontier.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: frontier
{{- end -}}

{{- define "frontier.selectorLabels" -}}
app.kubernetes.io/name: {{ include "frontier.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "frontier.tritonSelectorLabels" -}}
app.kubernetes.io/name: {{ include "frontier.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: triton
{{- end -}}

{{- define "frontier.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "frontier.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "frontier.image" -}}
{{- printf "%s:%s" .image.repository (default .chart.AppVersion .image.tag) -}}
{{- end -}}

{{- define "frontier.s3Secret" -}}
{{- default "frontier-s3" .Values.storage.s3.existingSecret -}}
{{- end -}}

{{/* s3://bucket/prefix: what the operator and the Jobs use (Python; a custom endpoint comes from
     AWS_ENDPOINT_URL in the Secret). */}}
{{- define "frontier.s3Root" -}}
{{- printf "s3://%s" (trimAll "/" (printf "%s/%s" .Values.storage.s3.bucket .Values.storage.s3.prefix)) -}}
{{- end -}}

{{/* Triton names a custom S3 endpoint inside the URL: s3://host:port/bucket/path. */}}
{{- define "frontier.tritonRepository" -}}
{{- $s3 := .Values.storage.s3 -}}
{{- if ne .Values.storage.mode "s3" -}}
/frontier/models
{{- else if $s3.endpoint -}}
{{- $host := trimPrefix "https://" (trimPrefix "http://" $s3.endpoint) | trimSuffix "/" -}}
{{- printf "s3://%s/%s/models" $host (trimAll "/" (printf "%s/%s" $s3.bucket $s3.prefix)) -}}
{{- else -}}
{{- printf "%s/models" (include "frontier.s3Root" .) -}}
{{- end -}}
{{- end -}}

{{- define "frontier.artifacts" -}}
{{- if eq .Values.storage.mode "s3" -}}
{{- printf "%s/artifacts" (include "frontier.s3Root" .) -}}
{{- else -}}
/frontier/artifacts
{{- end -}}
{{- end -}}

{{- define "frontier.modelRepository" -}}
{{- if eq .Values.storage.mode "s3" -}}
{{- printf "%s/models" (include "frontier.s3Root" .) -}}
{{- else -}}
/frontier/models
{{- end -}}
{{- end -}}

{{/* Pod-level and container-level hardening shared by the operator and Triton. */}}
{{- define "frontier.containerSecurity" -}}
allowPrivilegeEscalation: false
privileged: false
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
