print("zipar")
