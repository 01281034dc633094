"""Learners and policies for the inventory envs: HDPO through the differentiable simulator, MLP and GNN
policies, and the agents that play them."""
