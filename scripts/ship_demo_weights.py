"""Pack a trained chorales run as the demo's shipped weights (latent_flows/weights/chorales-AF-SCF.pt), with its record and
the test NLL those float16 weights score, which tests/test_demo.py checks they still do.

    lf_train --dataset chorales --model AF/SCF --out runs/chorales-demo \
        --sizes zsize=32,emb_size=128,rnn_size=128,pos_dim=16,prior_units=64,prior_lstm_size=128
    python scripts/ship_demo_weights.py runs/chorales-demo
"""
import json, sys
from latent_flows.cli import save_demo_weights, demo_weights

if __name__ == '__main__':
    meta = save_demo_weights(sys.argv[1])
    print(json.dumps({k: meta[k] for k in ('epoch', 'epochs_done', 'steps', 'train_wall_s', 'train_git_commit', 'test')}, indent=1))
    print('->', demo_weights())
