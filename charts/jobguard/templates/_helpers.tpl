{{/* The name every object is called by (jobguard for a release named jobguard). */}}
{{- define "jobguard.fullname" -}}
{{- if contains "jobguard" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-jobguard" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object: the component's, plus the release's. */}}
{{- define "jobguard.labels" -}}
{{ include "jobguard.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* What selects a component's pods (call with dict "root" $ "component" "webhook"). */}}
{{- define "jobguard.selectorLabels" -}}
app.kubernetes.io/name: jobguard
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The image: by digest when one is given, else by tag (default the appVersion). */}}
{{- define "jobguard.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The restricted container security context every jobguard container runs with. */}}
{{- define "jobguard.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "jobguard.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The policy file the webhook serves. */}}
{{- define "jobguard.policyFile" -}}
{{- if eq .Values.policy.use "own" -}}
{{- if not .Values.policy.own -}}
{{- fail "policy.use is own but policy.own is empty: --set-file policy.own=<your policy file>" -}}
{{- end -}}
own.yaml
{{- else -}}
{{- .Values.policy.use -}}.yaml
{{- end -}}
{{- end -}}

{{/* The pod of the certificates Job and CronJob. */}}
{{- define "jobguard.certsPod" -}}
{{- $fullname := include "jobguard.fullname" . -}}
metadata:
  labels:
    {{- include "jobguard.selectorLabels" (dict "root" . "component" "certs") | nindent 4 }}
spec:
  serviceAccountName: {{ $fullname }}-certs
  restartPolicy: Never
  securityContext:
    {{- include "jobguard.podSecurityContext" . | nindent 4 }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: certs
      image: {{ include "jobguard.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - certs
        - --in-cluster
        - --dir=/tmp/certs
        - --namespace=$(POD_NAMESPACE)
        - --service={{ $fullname }}
        - --tls-secret={{ $fullname }}-tls
        - --ca-secret={{ $fullname }}-ca
        - --webhook-configuration={{ $fullname }}
      env:
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
      resources:
        {{- toYaml .Values.certificates.resources | nindent 8 }}
      securityContext:
        {{- include "jobguard.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        medium: Memory
        sizeLimit: 16Mi
{{- end -}}
