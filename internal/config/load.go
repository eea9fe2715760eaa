package config

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/cast"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvPrefix prefixes every environment variable: kafka.brokers is DRIFTLOCK_KAFKA_BROKERS.
const EnvPrefix = "DRIFTLOCK"

// legacyKey is the collector processor block of the seed configuration.
const legacyKey = "processors.driftlock_cbad"

// legacyMapping maps keys of the seed's processor block to DriftLock keys.
var legacyMapping = map[string]string{
	"window_size":            "detector.window_size",
	"hop_size":               "detector.hop_size",
	"threshold":              "detector.threshold",
	"determinism":            "detector.determinism",
	"kafka.brokers":          "kafka.brokers",
	"kafka.client_id":        "kafka.client_id",
	"kafka.events_topic":     "kafka.events_topic",
	"kafka.tls_enabled":      "kafka.tls_enabled",
	"kafka.batch_size":       "kafka.batch_size",
	"kafka.batch_timeout_ms": "kafka.batch_timeout_ms",
}

// Keys returns every configuration key, sorted, as "section.name".
func Keys() []string {
	keys := make([]string, 0, 64)
	walkKeys(reflect.TypeOf(Config{}), "", func(key string) { keys = append(keys, key) })
	sort.Strings(keys)
	return keys
}

func walkKeys(t reflect.Type, prefix string, fn func(string)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := prefix + f.Tag.Get("mapstructure")
		if f.Type.Kind() == reflect.Struct {
			walkKeys(f.Type, key+".", fn)
			continue
		}
		fn(key)
	}
}

// RegisterFlags adds one flag per configuration key (--kafka.brokers, ...) to fs.
func RegisterFlags(fs *pflag.FlagSet) {
	for _, key := range Keys() {
		fs.String(key, "", "overrides "+key)
	}
}

// Load reads the configuration: defaults, then the YAML file at path (if not
// empty), then DRIFTLOCK_* environment variables, then the flags of fs that
// were set. The result is validated.
func Load(path string, fs *pflag.FlagSet) (Config, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	setDefaults(v, Default())
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		err = v.ReadConfig(f)
		f.Close()
		if err != nil {
			return Config{}, fmt.Errorf("parse config %s: %w", path, err)
		}
		if err := applyLegacy(v); err != nil {
			return Config{}, err
		}
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if fs != nil {
		fs.Visit(func(f *pflag.Flag) {
			if isKey(f.Name) {
				v.Set(f.Name, f.Value.String())
			}
		})
	}
	if err := checkTypes(v); err != nil {
		return Config{}, err
	}
	var cfg Config
	err := v.Unmarshal(&cfg, func(dc *mapstructure.DecoderConfig) {
		dc.WeaklyTypedInput = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(mapstructure.StringToSliceHookFunc(","))
	})
	if err != nil {
		return Config{}, fmt.Errorf("invalid configuration: %s", oneLine(err))
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// checkTypes reports the first key whose value cannot be read as the type of
// its default, in the same one-line form as Validate.
func checkTypes(v *viper.Viper) error {
	var err error
	walkValues(reflect.ValueOf(Default()), "", func(key string, def reflect.Value) {
		if err != nil || !v.IsSet(key) {
			return
		}
		raw := v.Get(key)
		switch def.Kind() {
		case reflect.Int, reflect.Int64:
			if _, cerr := cast.ToInt64E(raw); cerr != nil {
				err = invalid(key, raw, "must be an integer")
			}
		case reflect.Float64:
			if _, cerr := cast.ToFloat64E(raw); cerr != nil {
				err = invalid(key, raw, "must be a number")
			}
		case reflect.Bool:
			if _, cerr := cast.ToBoolE(raw); cerr != nil {
				err = invalid(key, raw, "must be true or false")
			}
		case reflect.Slice:
			if _, cerr := cast.ToStringSliceE(raw); cerr != nil {
				err = invalid(key, raw, "must be a list of strings")
			}
		}
	})
	return err
}

func isKey(name string) bool {
	for _, k := range Keys() {
		if k == name {
			return true
		}
	}
	return false
}

func setDefaults(v *viper.Viper, d Config) {
	val := reflect.ValueOf(d)
	walkValues(val, "", func(key string, fv reflect.Value) { v.SetDefault(key, fv.Interface()) })
}

func walkValues(val reflect.Value, prefix string, fn func(string, reflect.Value)) {
	t := val.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := prefix + f.Tag.Get("mapstructure")
		if f.Type.Kind() == reflect.Struct {
			walkValues(val.Field(i), key+".", fn)
			continue
		}
		fn(key, val.Field(i))
	}
}

// applyLegacy copies the seed's processors.driftlock_cbad keys onto their
// DriftLock keys, unless the file also sets the DriftLock key itself. They
// join the file layer, so the environment and flags still win over them.
func applyLegacy(v *viper.Viper) error {
	if !v.IsSet(legacyKey) {
		return nil
	}
	if v.IsSet(legacyKey + ".kafka.enabled") {
		if _, ok := v.Get(legacyKey + ".kafka.enabled").(bool); !ok {
			return fmt.Errorf("invalid value %v for %s.kafka.enabled: must be true or false", v.Get(legacyKey+".kafka.enabled"), legacyKey)
		}
	}
	merged := map[string]any{}
	for from, to := range legacyMapping {
		key := legacyKey + "." + from
		if v.IsSet(key) && !v.InConfig(to) {
			setNested(merged, strings.Split(to, "."), v.Get(key))
		}
	}
	return v.MergeConfigMap(merged)
}

// setNested stores value at path in a tree of maps.
func setNested(m map[string]any, path []string, value any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = value
}

// oneLine keeps the first line of a decoder error, which names the key.
func oneLine(err error) string {
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "*"))
		if line != "" && !strings.HasPrefix(line, "decoding failed") {
			return line
		}
	}
	return err.Error()
}
