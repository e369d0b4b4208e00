import MTSim
print("mt-sim: not implemented yet")
