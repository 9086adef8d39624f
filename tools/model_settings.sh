# shellcheck shell=sh disable=SC2034  # sourced: the variables are used by the scripts that source it
# The shipped models' training settings, sourced by tools/train_models.sh and tools/learning_curves.sh so that
# both train with the same ones (doc/models.md says where each came from). *_FLAGS: architecture, epochs, batch;
# *_WD: the weight decay; *_LR: the learning rate chosen for the shipped model on validation (train_models.sh
# searches over its candidates, the learning curves use these).
# SMOKE=1: 2 epochs each and a 2-member SC ensemble, to check a pipeline's plumbing (the numbers mean nothing then).
# TL_EPOCHS: the fine-tuning's epochs (100 since round 8: rounds 4 and 8 kept the epoch-20 checkpoint of 500 and
# of 100 epochs, so the last 400 of 500 were spent for nothing).
e500=500 e200=200 etl=${TL_EPOCHS:-100} ewarm=100
sc_members=5
[ "${SMOKE:-0}" = 1 ] && e500=2 e200=2 etl=2 ewarm=2 sc_members=2
# IPA (the paper: Adam lr 2e-3, wd 1e-4; batch 32 rather than 512: a few hundred materials)
# IPA_SOURCE: the spectra the IPA model learns (`rung train --ipa-source`): "any" pretrains on the IPA-lite tier
# where a material has no full IPA spectrum (doc/models.md, "Pretraining on the IPA-lite tier"); "full" as before
# IPA_LR: the rate round 9 chose on validation with lite pretraining (doc/models.md)
# IPA_LOSS, TL_LOSS: `rung train --loss`. "mixed" (half each material's L1 over its own spectrum's, half the L1
# over the targets' total) since round 12: on round 11's validation it beat the paper's "l1" (TL median 0.853-0.861
# against 0.825-0.828) and kept Si's predicted n(0) at 3.57, where "relative" alone, as good on validation,
# predicted Si's IPA 25 % too weak (doc/models.md, "A loss relative to each spectrum")
IPA_FLAGS="--arch ipa --epochs $e500 --batch 32 --ipa-source ${IPA_SOURCE:-any} --loss ${IPA_LOSS:-mixed}" IPA_LR=2e-3 IPA_WD=1e-4
# IPA warm start (since round 17; tools/train_models.sh IPA_WARM=FILE): the previous round's IPA model trained on
# for 100 epochs at lr 5e-4 on the grown data set instead of 500 from random weights (round 17: validation median
# SC 0.863 against 0.853 for round 16's model unchanged, in 100 single-threaded epochs instead of 500; doc/models.md)
IPA_WARM_FLAGS="--arch ipa --epochs $ewarm --batch 32 --ipa-source ${IPA_SOURCE:-any} --loss ${IPA_LOSS:-mixed}" IPA_WARM_LR=5e-4
# RPA by transfer learning from the IPA model, all layers fine-tuned (the paper: lr 1e-5, 500 epochs, batch 128).
# TL_LR: 1e-4 from round 9 to 16; round 17 chose 1e-3 on validation from its warm-started IPA model (median SC
# 0.858 against 0.858 for 3e-4 and 0.855 for 1e-4; doc/models.md)
# TL_CHECKS: since round 18, a check every 5 epochs of the weights' moving average (--ema 0.99) instead of the raw
# weights every 20: on round 17's data, three seeds each, validation median SC 0.870-0.878 against 0.857-0.866
# (doc/models.md, "Checkpoints and weight averaging for transfer learning")
# (TL_CHECKS="--val-every 20" gives the checks of rounds up to 17)
TL_CHECKS=${TL_CHECKS-"--val-every 5 --ema 0.99"}
TL_FLAGS="--epochs $etl --batch 32 --loss ${TL_LOSS:-mixed} $TL_CHECKS" TL_LR=1e-3 TL_WD=1e-4
# RPA directly (the paper: the smallest-N architecture dl100)
DL_FLAGS="--arch dl100 --epochs $e500 --batch 20" DL_LR=1e-3 DL_WD=1e-4
# SC(IPA,RPA) from scratch (the paper: lr 1e-3, wd 0, batch 64, 200 epochs). Since round 9's grid: an ensemble of
# 5 members with a 256-256 head instead of the paper's 1024-1024-1024 (one member's error on test ranged 0.42-0.73x
# the constant's over three seeds; doc/models.md "Batch, epochs and rate on validation"). SC_ESTIMATOR: what
# train_models.sh writes into model_set.json ("direct": sc.h5 alone; "mean": with the predicted spectra's SC)
SC_ARCH='{"gat":[[48,4],[96,4]],"gat_negative_slope":0.2,"node_mlp":[48,48],"out_mlp":[256,256],"output_activation":"leaky_relu(0.01)","output_dim":1,"pooling":"softmax-attention"}'
SC_FLAGS="--arch $SC_ARCH --ensemble $sc_members --epochs $e200 --batch 64" SC_LR=1e-3 SC_WD=0 SC_ESTIMATOR=${SC_ESTIMATOR:-direct}
# Why the estimator is the one above (the "why" of model_set.json; SC_ESTIMATOR_WHY overrides it)
SC_ESTIMATOR_WHY=${SC_ESTIMATOR_WHY:-"chosen on round 9's 28 validation materials by tools/sc_estimators.py (doc/models.md): sc.h5 alone 0.0241 mean |dSC|, its mean with the predicted spectra's SC 0.0289; kept since"}
# Makes DIR a model set with the SC estimator above (DIR/model_set.json, read by src/select/model_predictor.cpp).
# Written by json.dump, so that a quote or a backslash in the "why" stays valid JSON, to a temporary file renamed
# into place (a kill never leaves a cut model_set.json).
write_model_set() {  # DIR
  python3 -c '
import json, os, sys
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    json.dump({"format": "rung-model-set", "format_version": 1, "sc_estimator": sys.argv[2], "why": sys.argv[3]}, f, indent=2,
              ensure_ascii=False)
    f.write("\n")
os.replace(tmp, sys.argv[1])
' "$1/model_set.json" "$SC_ESTIMATOR" "$SC_ESTIMATOR_WHY"
}
